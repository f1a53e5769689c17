package ferric.runtime;

import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * FC's error body for a Java failure: {@code errorMessage}, {@code errorType} (the exception's class name),
 * {@code errorCause} (the message of the innermost cause) and {@code stackTrace} (one string per frame of the
 * user's code, {@code example.HelloFC.handleRequest(HelloFC.java:15)}; the runtime's own frames and the
 * reflection frames below the handler are cut).
 */
final class Errors {
    private Errors() {
    }

    /** The exception a handler threw, unwrapped from reflection. */
    static Throwable unwrap(Throwable t) {
        while (t instanceof InvocationTargetException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static Map<String, Object> of(Throwable thrown) {
        Throwable t = unwrap(thrown);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("errorMessage", t.getMessage() != null ? t.getMessage() : t.toString());
        body.put("errorType", t.getClass().getName());
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        body.put("errorCause", root.getMessage() != null ? root.getMessage() : root.toString());
        List<Object> trace = new ArrayList<>();
        for (StackTraceElement frame : t.getStackTrace()) {
            String cls = frame.getClassName();
            if (cls.startsWith("jdk.internal.reflect.") || cls.startsWith("java.lang.reflect.")
                    || cls.startsWith("sun.reflect.") || cls.startsWith("ferric.runtime.")) {
                break;
            }
            trace.add(frame.toString());
        }
        body.put("stackTrace", trace);
        return body;
    }

    /** A failure of the runtime's own making (bad handler, missing class): message and type only. */
    static Map<String, Object> plain(String message, String type) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("errorMessage", message);
        if (type != null) {
            body.put("errorType", type);
        }
        return body;
    }
}
