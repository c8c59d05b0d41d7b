package dev.reprise.demo.server;

import static dev.reprise.demo.common.Exchanges.body;
import static dev.reprise.demo.common.Exchanges.env;
import static dev.reprise.demo.common.Exchanges.json;
import static dev.reprise.demo.common.Exchanges.query;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.reprise.demo.common.Exchanges;
import dev.reprise.demo.common.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * java-server: the service under test. Orders and price quotes; quotes and new orders call the
 * payments API over HTTPS (PAYMENTS_URL), the way services call a payment provider. Responses
 * carry volatile fields (ids, timestamps). Nothing in it knows about proxies or Reprise: the
 * JVM's system properties (JAVA_TOOL_OPTIONS) decide where its HTTPS calls go and whom it trusts.
 * DEMO_BROKEN=field deliberately changes one response field (a broken build for the demo).
 */
public final class OrdersServer {
  record Item(String name, long priceCents) {}

  record Order(String id, String customer, String sku, int qty) {}

  private static final Map<String, Item> CATALOG =
      Map.of(
          "sku-1", new Item("Espresso beans 1kg", 2450),
          "sku-2", new Item("Burr grinder", 18900),
          "sku-3", new Item("Milk jug", 1200));
  private static final Map<String, Order> ORDERS =
      Map.of(
          "ord-1001", new Order("ord-1001", "ada", "sku-1", 2),
          "ord-1002", new Order("ord-1002", "grace", "sku-3", 1));

  private final PaymentsClient payments;
  private final boolean brokenField;

  OrdersServer(PaymentsClient payments, boolean brokenField) {
    this.payments = payments;
    this.brokenField = brokenField;
  }

  public static void main(String[] args) throws IOException {
    PaymentsClient payments =
        new PaymentsClient(
            env("PAYMENTS_URL", "https://localhost:8443"), env("PAYMENTS_API_KEY", "pk_demo_51HqLyjWDarjtT1zdp7dc"));
    OrdersServer app = new OrdersServer(payments, "field".equals(System.getenv("DEMO_BROKEN")));
    HttpServer server =
        HttpServer.create(new InetSocketAddress(env("HOST", "127.0.0.1"), Integer.parseInt(env("PORT", "8080"))), 64);
    server.createContext("/", app::handle);
    Exchanges.serve("java-server", server);
  }

  private void handle(HttpExchange ex) throws IOException {
    // Not try-with-resources: the exchange must still be open when a catch block answers.
    try {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (method.equals("GET") && path.equals("/healthz")) json(ex, 200, Json.object("status", "ok"));
      else if (method.equals("GET") && path.equals("/orders")) listOrders(ex);
      else if (method.equals("GET") && path.startsWith("/orders/")) getOrder(ex, path.substring(8));
      else if (method.equals("POST") && path.equals("/orders")) createOrder(ex);
      else if (method.equals("GET") && path.equals("/quotes")) quote(ex);
      else json(ex, 404, Json.object("error", "not found"));
    } catch (PaymentsClient.PaymentsError e) {
      json(ex, 502, Json.object("error", "payments: " + e.getMessage()));
    } catch (RuntimeException e) {
      json(ex, 500, Json.object("error", e.toString()));
    } finally {
      ex.close();
    }
  }

  private static String encode(Order o) {
    Item item = CATALOG.get(o.sku());
    return Json.object(
        "id", o.id(), "customer", o.customer(), "sku", o.sku(), "item", item.name(), "qty", o.qty(),
        "totalCents", item.priceCents() * o.qty());
  }

  private void listOrders(HttpExchange ex) throws IOException {
    String customer = query(ex).get("customer");
    List<String> list = new ArrayList<>();
    ORDERS.values().stream()
        .filter(o -> customer == null || o.customer().equals(customer))
        .sorted((a, b) -> a.id().compareTo(b.id()))
        .forEach(o -> list.add(encode(o)));
    json(ex, 200, Json.object("orders", new Json.Raw(Json.array(list)), "count", list.size()));
  }

  private void getOrder(HttpExchange ex, String id) throws IOException {
    Order o = ORDERS.get(id);
    if (o == null) json(ex, 404, Json.object("error", "no order " + id));
    else json(ex, 200, encode(o));
  }

  /** GET /quotes?sku=&qty=&currency=: the price in a currency, at the payments API's rate. */
  private void quote(HttpExchange ex) throws IOException {
    Map<String, String> q = query(ex);
    Item item = CATALOG.get(q.getOrDefault("sku", ""));
    int qty = Integer.parseInt(q.getOrDefault("qty", "1"));
    if (item == null || qty < 1) {
      json(ex, 400, Json.object("error", "a known sku and qty >= 1 are required"));
      return;
    }
    String currency = q.getOrDefault("currency", "USD");
    double rate = payments.rate(currency);
    long total = Math.round(item.priceCents() * qty * rate);
    json(
        ex,
        200,
        Json.object(
            "sku", q.get("sku"), "qty", qty, "currency", currency, "totalCents", total,
            "quoteId", "q_" + UUID.randomUUID(), "quotedAt", Instant.now().toString()));
  }

  /** POST /orders (bearer token): charges the card through payments, then confirms the order. */
  private void createOrder(HttpExchange ex) throws IOException {
    String auth = ex.getRequestHeaders().getFirst("authorization");
    if (auth == null || !auth.startsWith("Bearer ")) {
      json(ex, 401, Json.object("error", "missing bearer token"));
      return;
    }
    Map<String, String> req = Json.fields(body(ex));
    Item item = CATALOG.get(req.getOrDefault("sku", ""));
    String customer = req.get("customer");
    String card = req.get("card");
    String qtyText = req.getOrDefault("qty", "");
    if (item == null || customer == null || card == null || !qtyText.matches("[1-9][0-9]{0,3}")) {
      json(ex, 400, Json.object("error", "customer, card, a known sku and qty are required"));
      return;
    }
    int qty = Integer.parseInt(qtyText);
    long total = item.priceCents() * qty;
    String currency = req.getOrDefault("currency", "USD");
    PaymentsClient.Charge charge =
        payments.charge(total, currency, card, req.get("email"), customer + "-" + req.get("sku") + "-" + qty);
    if (!charge.status().equals("succeeded")) {
      json(ex, 402, Json.object("error", "payment " + charge.status(), "chargeId", charge.id()));
      return;
    }
    json(
        ex,
        201,
        Json.object(
            "orderId", "ord-" + UUID.randomUUID().toString().substring(0, 8),
            "status", "confirmed",
            "customer", customer,
            "sku", req.get("sku"),
            "qty", qty,
            "currency", currency,
            // The broken build charges the right amount but reports 20% more.
            "totalCents", brokenField ? Math.round(total * 1.2) : total,
            "chargeId", charge.id(),
            "createdAt", Instant.now().toString()));
  }
}
