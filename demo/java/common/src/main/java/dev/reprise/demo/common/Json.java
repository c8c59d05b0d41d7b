package dev.reprise.demo.common;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough JSON for the demo, so the jars need no library: objects are written from
 * key/value pairs, and flat fields (strings, numbers) are read from a body.
 */
public final class Json {
  private Json() {}

  /** An object from alternating keys and values; values may be String, Number, Boolean, null or Raw. */
  public static String object(Object... pairs) {
    StringBuilder out = new StringBuilder("{");
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      if (i > 0) out.append(',');
      out.append(quote(String.valueOf(pairs[i]))).append(':').append(value(pairs[i + 1]));
    }
    return out.append('}').toString();
  }

  /** Already-encoded JSON (a nested object or array). */
  public record Raw(String json) {}

  public static String array(Iterable<String> encoded) {
    return "[" + String.join(",", encoded) + "]";
  }

  private static String value(Object v) {
    if (v == null) return "null";
    if (v instanceof Raw raw) return raw.json();
    if (v instanceof Number || v instanceof Boolean) return v.toString();
    return quote(v.toString());
  }

  public static String quote(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    return out.append('"').toString();
  }

  private static final Pattern FIELD =
      Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"\\s*:\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|-?[0-9][0-9.eE+-]*|true|false|null)");

  /** The top-level string and number fields of a flat object (nested values are not read). */
  public static Map<String, String> fields(String body) {
    Map<String, String> out = new LinkedHashMap<>();
    Matcher m = FIELD.matcher(body == null ? "" : body);
    while (m.find()) {
      String raw = m.group(3) != null ? unescape(m.group(3)) : m.group(2);
      out.putIfAbsent(unescape(m.group(1)), raw);
    }
    return out;
  }

  private static String unescape(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\' || i + 1 >= s.length()) {
        out.append(c);
        continue;
      }
      char e = s.charAt(++i);
      switch (e) {
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'u' -> {
          out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default -> out.append(e);
      }
    }
    return out.toString();
  }
}
