package ferric.runtime;

import com.aliyun.fc.runtime.Context;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds {@code package.Class::method} in the function's code: the code directory itself (an uploaded jar
 * is extracted there), every {@code *.jar} at its top and under {@code lib/}, then every jar under its
 * layers' {@code java/lib} ({@code FERRIC_JAVA_LAYER_LIBS}). The loader delegates to
 * the runtime's class path first, so a fat jar that bundles fc-java-core or javax.servlet uses Ferric's
 * copies, as FC's runtime does. One object per class serves the instance (initializer and handler share it).
 */
final class Handlers {
    /** How a handler method is called, from its parameter types. */
    enum Kind { STREAM, POJO, HTTP, INITIALIZER }

    /** A resolved handler: its object, method and kind. */
    static final class Target {
        final Object object;
        final Method method;
        final Kind kind;

        Target(Object object, Method method, Kind kind) {
            this.object = object;
            this.method = method;
            this.kind = kind;
        }
    }

    /** A handler that cannot be found: FC's message, no stack. */
    static final class NotFound extends Exception {
        private static final long serialVersionUID = 1L;
        final String type;

        NotFound(String message, String type) {
            super(message);
            this.type = type;
        }
    }

    private final ClassLoader loader;
    private final Map<String, Object> objects = new HashMap<>();
    private final Map<String, Target> targets = new HashMap<>();

    Handlers(File code) throws Exception {
        List<URL> urls = new ArrayList<>();
        urls.add(code.toURI().toURL());
        addJars(code, urls, 0);
        // The function's layers: every jar under each layer's java/lib, as FC puts /opt/java/lib on the
        // class path, the first listed layer first (the invoker passes them in that order).
        String layers = System.getenv("FERRIC_JAVA_LAYER_LIBS");
        if (layers != null) {
            for (String dir : layers.split(":")) {
                if (!dir.isEmpty()) {
                    addJars(new File(dir), urls, 1);
                }
            }
        }
        loader = new URLClassLoader(urls.toArray(new URL[0]), Handlers.class.getClassLoader());
    }

    ClassLoader loader() {
        return loader;
    }

    private static void addJars(File dir, List<URL> urls, int depth) throws Exception {
        File[] files = dir.listFiles();
        if (files == null || depth > 3) {
            return;
        }
        java.util.Arrays.sort(files);
        for (File f : files) {
            if (f.isFile() && f.getName().endsWith(".jar")) {
                urls.add(f.toURI().toURL());
            } else if (f.isDirectory() && (depth > 0 || f.getName().equals("lib"))) {
                addJars(f, urls, depth + 1);
            }
        }
    }

    /** Resolves a handler string, once; a failure is not cached (the next request tries again). */
    synchronized Target resolve(String handler, boolean initializer) throws Exception {
        Target cached = targets.get(handler);
        if (cached != null) {
            return cached;
        }
        int sep = handler.indexOf("::");
        if (sep <= 0 || sep + 2 >= handler.length()) {
            throw new NotFound("Invalid handler '" + handler + "': use package.Class::method", "InvalidHandleName");
        }
        String className = handler.substring(0, sep);
        String methodName = handler.substring(sep + 2);
        Class<?> cls;
        try {
            cls = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            throw new NotFound("Class not found: " + className, "java.lang.ClassNotFoundException");
        }
        Method method = null;
        Kind kind = null;
        for (Method m : cls.getMethods()) {
            if (!m.getName().equals(methodName) || m.isBridge() || Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            Class<?>[] p = m.getParameterTypes();
            Kind k = null;
            if (initializer && p.length == 1 && p[0] == Context.class) {
                k = Kind.INITIALIZER;
            } else if (!initializer && p.length == 3 && p[0] == InputStream.class && p[1] == OutputStream.class
                    && p[2] == Context.class) {
                k = Kind.STREAM;
            } else if (!initializer && p.length == 3 && p[0].getName().equals("javax.servlet.http.HttpServletRequest")
                    && p[2] == Context.class) {
                k = Kind.HTTP;
            } else if (!initializer && p.length == 2 && p[1] == Context.class) {
                k = Kind.POJO;
            }
            if (k != null && (method == null || p[0] != Object.class)) {
                method = m;
                kind = k;
            }
        }
        if (method == null) {
            throw new NotFound("Handler '" + methodName + "' missing on module '" + className + "'", null);
        }
        Object object = objects.get(className);
        if (object == null) {
            object = cls.getDeclaredConstructor().newInstance();
            objects.put(className, object);
        }
        Target target = new Target(object, method, kind);
        targets.put(handler, target);
        return target;
    }
}
