package dev.reprise.demo.client;

import dev.reprise.demo.common.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * java-client: a steady mix of GETs and POSTs against java-server, with a bearer token and
 * personal data (emails, card numbers) in the POSTs, as a real front end sends.
 *
 *   java -jar java-client.jar [--target http://127.0.0.1:8080] [--rate 5] [--count 70 | --duration 30s]
 *                             [--token TOKEN]
 *
 * Prints {"requests":N,"failures":F,"statuses":{...}} at the end; exit 1 when any request failed
 * (no answer, or a 5xx).
 */
public final class DemoClient {
  record Call(String method, String path, String body) {}

  /** One round; rounds repeat, as real traffic repeats requests. */
  static final List<Call> ROUND =
      List.of(
          new Call("GET", "/orders?customer=ada", null),
          new Call("GET", "/orders/ord-1001", null),
          new Call("GET", "/quotes?sku=sku-1&qty=2&currency=EUR", null),
          order("ada", "ada.lovelace@example.com", "4111 1111 1111 1111", "sku-1", 2, "EUR"),
          new Call("GET", "/orders/ord-9999", null),
          order("grace", "grace.hopper@example.com", "5500 0000 0000 0004", "sku-3", 1, "USD"),
          new Call("GET", "/quotes?sku=sku-3&qty=1&currency=GBP", null));

  static Call order(String customer, String email, String card, String sku, int qty, String currency) {
    return new Call(
        "POST",
        "/orders",
        Json.object(
            "customer", customer, "email", email, "card", card, "sku", sku, "qty", qty, "currency", currency));
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = options(args);
    String target = opts.getOrDefault("target", "http://127.0.0.1:8080").replaceAll("/+$", "");
    double rate = Double.parseDouble(opts.getOrDefault("rate", "5"));
    long count = Long.parseLong(opts.getOrDefault("count", opts.containsKey("duration") ? "-1" : "70"));
    long durationMs = opts.containsKey("duration") ? seconds(opts.get("duration")) * 1000 : -1;
    String token = opts.getOrDefault("token", "demo-secret-token-6f1c2a9e");
    if (!(rate > 0)) throw new IllegalArgumentException("--rate: expected a number above 0");

    // HTTP/1.1: the JDK client's default (HTTP/2) adds an h2c upgrade to plain-HTTP requests.
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    long start = System.nanoTime();
    long intervalNs = (long) (1e9 / rate);
    Map<Integer, Integer> statuses = new TreeMap<>();
    long sent = 0;
    int failures = 0;
    while ((count < 0 || sent < count) && (durationMs < 0 || (System.nanoTime() - start) / 1_000_000 < durationMs)) {
      long due = start + sent * intervalNs;
      long wait = due - System.nanoTime();
      if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      Call call = ROUND.get((int) (sent % ROUND.size()));
      sent++;
      HttpRequest.Builder req =
          HttpRequest.newBuilder(URI.create(target + call.path())).timeout(Duration.ofSeconds(10));
      if (call.body() == null) req.GET();
      else
        req.header("content-type", "application/json")
            .header("authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.ofString(call.body()));
      try {
        HttpResponse<String> res = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        statuses.merge(res.statusCode(), 1, Integer::sum);
        if (res.statusCode() >= 500) failures++;
      } catch (java.io.IOException e) {
        failures++;
        System.err.println("java-client: " + call.method() + " " + call.path() + ": " + e);
      }
    }
    StringBuilder byStatus = new StringBuilder("{");
    statuses.forEach((s, n) -> byStatus.append(byStatus.length() > 1 ? "," : "").append('"').append(s).append("\":").append(n));
    System.out.println(
        Json.object("requests", sent, "failures", failures, "statuses", new Json.Raw(byStatus + "}")));
    System.exit(failures == 0 ? 0 : 1);
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> out = new TreeMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length)
        throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
      out.put(args[i].substring(2), args[++i]);
    }
    return out;
  }

  /** `30s`, `2m` or a number of seconds. */
  private static long seconds(String text) {
    if (text.endsWith("m")) return Long.parseLong(text.substring(0, text.length() - 1)) * 60;
    return Long.parseLong(text.replaceAll("s$", ""));
  }
}
