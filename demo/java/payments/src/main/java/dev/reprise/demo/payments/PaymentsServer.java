package dev.reprise.demo.payments;

import static dev.reprise.demo.common.Exchanges.body;
import static dev.reprise.demo.common.Exchanges.env;
import static dev.reprise.demo.common.Exchanges.json;
import static dev.reprise.demo.common.Exchanges.query;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.reprise.demo.common.Exchanges;
import dev.reprise.demo.common.Json;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.security.KeyStore;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * payments: the demo's HTTPS dependency, as a payment provider's API is for real services.
 * Exchange rates (GET /v1/rates?currency=EUR) and card charges (POST /v1/charges, bearer API
 * key), answered with volatile fields (ids, timestamps) as real APIs do. Its certificate, for
 * its host names, comes from PAYMENTS_KEYSTORE (PKCS12; scripts/java-demo/build.sh makes one).
 */
public final class PaymentsServer {
  private static final Map<String, Double> RATES = Map.of("EUR", 0.92, "GBP", 0.79, "USD", 1.0, "JPY", 151.4);
  /** Charges above this many cents are declined. */
  private static final long LIMIT_CENTS = 500_000;

  public static void main(String[] args) throws Exception {
    String keystore = System.getenv("PAYMENTS_KEYSTORE");
    if (keystore == null) {
      System.err.println("payments: PAYMENTS_KEYSTORE (a PKCS12 file with the server's key) is required");
      System.exit(2);
    }
    char[] password = env("PAYMENTS_KEYSTORE_PASSWORD", "changeit").toCharArray();
    String apiKey = env("PAYMENTS_API_KEY", "pk_demo_51HqLyjWDarjtT1zdp7dc");
    HttpsServer server =
        HttpsServer.create(
            new InetSocketAddress(env("HOST", "127.0.0.1"), Integer.parseInt(env("PORT", "8443"))), 64);
    server.setHttpsConfigurator(new HttpsConfigurator(sslContext(keystore, password)));
    server.createContext("/", ex -> handle(ex, apiKey));
    Exchanges.serve("payments", server);
  }

  private static SSLContext sslContext(String file, char[] password) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(file)) {
      ks.load(in, password);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, password);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    return ctx;
  }

  private static void handle(HttpExchange ex, String apiKey) throws IOException {
    try {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (method.equals("GET") && path.equals("/healthz")) {
        json(ex, 200, Json.object("status", "ok"));
      } else if (method.equals("GET") && path.equals("/v1/rates")) {
        String currency = query(ex).getOrDefault("currency", "USD");
        Double rate = RATES.get(currency);
        if (rate == null) json(ex, 404, Json.object("error", "unknown currency " + currency));
        else json(ex, 200, Json.object("base", "USD", "currency", currency, "rate", rate, "asOf", Instant.now().toString()));
      } else if (method.equals("POST") && path.equals("/v1/charges")) {
        charge(ex, apiKey);
      } else {
        json(ex, 404, Json.object("error", "not found"));
      }
    } catch (RuntimeException e) {
      json(ex, 500, Json.object("error", e.toString()));
    } finally {
      ex.close();
    }
  }

  private static void charge(HttpExchange ex, String apiKey) throws IOException {
    if (!("Bearer " + apiKey).equals(ex.getRequestHeaders().getFirst("authorization"))) {
      json(ex, 401, Json.object("error", "invalid API key"));
      return;
    }
    Map<String, String> req = Json.fields(body(ex));
    String card = req.get("card");
    String amount = req.get("amountCents");
    if (card == null || amount == null || !amount.matches("\\d{1,12}")) {
      json(ex, 400, Json.object("error", "card and amountCents are required"));
      return;
    }
    long cents = Long.parseLong(amount);
    String status = cents > LIMIT_CENTS ? "declined" : "succeeded";
    json(
        ex,
        cents > LIMIT_CENTS ? 402 : 201,
        Json.object(
            "id", "ch_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24),
            "status", status,
            "amountCents", cents,
            "currency", req.getOrDefault("currency", "USD"),
            "reference", req.get("reference"),
            "created", Instant.now().toString()));
  }
}
