package aap.sm2;

import java.util.List;
import java.util.Map;

/** The little JSON the verifier answers in: objects, lists, strings, booleans and null. */
final class Json {
    private Json() {}

    static String object(Map<String, ?> map) {
        StringBuilder out = new StringBuilder("{");
        String sep = "";
        for (var entry : map.entrySet()) {
            out.append(sep).append(value(entry.getKey())).append(':').append(value(entry.getValue()));
            sep = ",";
        }
        return out.append('}').toString();
    }

    @SuppressWarnings("unchecked")
    static String value(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Boolean || v instanceof Number) {
            return v.toString();
        }
        if (v instanceof Map<?, ?> m) {
            return object((Map<String, ?>) m);
        }
        if (v instanceof List<?> list) {
            StringBuilder out = new StringBuilder("[");
            for (int i = 0; i < list.size(); i++) {
                out.append(i == 0 ? "" : ",").append(value(list.get(i)));
            }
            return out.append(']').toString();
        }
        StringBuilder out = new StringBuilder("\"");
        for (char c : v.toString().toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
