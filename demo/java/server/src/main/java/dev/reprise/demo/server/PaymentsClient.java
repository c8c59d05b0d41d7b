package dev.reprise.demo.server;

import dev.reprise.demo.common.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * The payments API over HTTPS with the JDK's own client, built the common way
 * (`HttpClient.newHttpClient()`): the default ProxySelector and the default SSLContext, so the
 * `https.proxyHost/Port` and `javax.net.ssl.trustStore` system properties apply unchanged.
 */
final class PaymentsClient {
  static final class PaymentsError extends RuntimeException {
    PaymentsError(String message) {
      super(message);
    }
  }

  record Charge(String id, String status) {}

  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private final HttpClient http = HttpClient.newHttpClient();
  private final String baseUrl;
  private final String apiKey;

  PaymentsClient(String baseUrl, String apiKey) {
    this.baseUrl = baseUrl.replaceAll("/+$", "");
    this.apiKey = apiKey;
  }

  double rate(String currency) {
    Map<String, String> res =
        send(
            HttpRequest.newBuilder(
                    URI.create(baseUrl + "/v1/rates?currency=" + URLEncoder.encode(currency, StandardCharsets.UTF_8)))
                .GET(),
            200);
    return Double.parseDouble(res.get("rate"));
  }

  Charge charge(long amountCents, String currency, String card, String email, String reference) {
    String body =
        Json.object(
            "amountCents", amountCents, "currency", currency, "card", card, "email", email, "reference", reference);
    Map<String, String> res =
        send(
            HttpRequest.newBuilder(URI.create(baseUrl + "/v1/charges"))
                .header("authorization", "Bearer " + apiKey)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)),
            201,
            402);
    return new Charge(res.get("id"), res.get("status"));
  }

  private Map<String, String> send(HttpRequest.Builder request, int... expected) {
    HttpResponse<String> res;
    try {
      res = http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new PaymentsError(e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PaymentsError("interrupted");
    }
    for (int status : expected) if (res.statusCode() == status) return Json.fields(res.body());
    throw new PaymentsError("HTTP " + res.statusCode() + " " + res.body());
  }
}
