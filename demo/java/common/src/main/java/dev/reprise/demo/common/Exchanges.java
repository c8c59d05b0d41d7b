package dev.reprise.demo.common;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** Request and response helpers for com.sun.net.httpserver handlers, and the services' lifecycle. */
public final class Exchanges {
  private Exchanges() {}

  /** Request bodies above this are refused (413): a demo service never needs more. */
  public static final int MAX_BODY = 64 * 1024;

  public static void json(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("content-type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  public static String body(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY + 1);
      if (bytes.length > MAX_BODY) throw new IOException("request body over " + MAX_BODY + " bytes");
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  public static Map<String, String> query(HttpExchange ex) {
    Map<String, String> out = new HashMap<>();
    String raw = ex.getRequestURI().getRawQuery();
    if (raw == null) return out;
    for (String part : raw.split("&")) {
      int eq = part.indexOf('=');
      String key = eq < 0 ? part : part.substring(0, eq);
      String value = eq < 0 ? "" : part.substring(eq + 1);
      out.putIfAbsent(
          URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return out;
  }

  public static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isEmpty() ? fallback : v;
  }

  /**
   * Serves with a bounded pool, prints the ready line `{"event":"ready","port":P}` that the
   * scripts and tests wait for, and stops cleanly on SIGTERM.
   */
  public static void serve(String name, HttpServer server) {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    server.setExecutor(pool);
    server.start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.stop(0);
                  pool.shutdown();
                  try {
                    pool.awaitTermination(2, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }));
    System.out.println(
        Json.object("event", "ready", "service", name, "port", server.getAddress().getPort()));
    System.out.flush();
  }
}
