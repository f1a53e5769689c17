package ferric.runtime;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Ferric's Java runtime (runtimes/PROTOCOL.md): says {@code ready}, reads {@code init}, then runs
 * {@code initialize} and {@code invoke} messages on up to {@code instanceConcurrency} worker threads while
 * this thread keeps reading. It exits when the control socket reaches EOF.
 */
public final class Bootstrap {
    private final Frames frames;
    private final Logs logs;
    private FcContext.Instance instance;
    private Handlers handlers;
    private Throwable loadFailure;

    private Bootstrap(Frames frames) {
        this.frames = frames;
        this.logs = new Logs(frames, Logs.levelFrom(System.getenv("FC_SERVER_LOG_LEVEL")));
    }

    public static void main(String[] args) throws Exception {
        Frames frames = Frames.openControlFd(Integer.parseInt(System.getenv().getOrDefault("FERRIC_CONTROL_FD", "3")));
        Bootstrap bootstrap = new Bootstrap(frames);
        try {
            bootstrap.run();
        } catch (java.io.IOException e) {
            System.err.println("ferric java runtime: " + e.getMessage());
            Runtime.getRuntime().halt(1);
        }
        Runtime.getRuntime().halt(0);
    }

    private void run() throws Exception {
        Map<String, Object> ready = new LinkedHashMap<>();
        ready.put("type", "ready");
        ready.put("runtime", "java " + System.getProperty("java.version"));
        frames.write(ready, new byte[0]);
        PrintStream out = new PrintStream(logs.stream(), true, "UTF-8");
        System.setOut(out);
        System.setErr(out);
        ExecutorService workers = null;
        Frames.Frame frame;
        while ((frame = frames.read()) != null) {
            switch (frame.type()) {
                case "init":
                    instance = new FcContext.Instance(frame.header);
                    workers = Executors.newFixedThreadPool(instance.concurrency, r -> {
                        Thread t = new Thread(r, "fc-request");
                        t.setDaemon(true);
                        return t;
                    });
                    String code = System.getenv().getOrDefault("FC_FUNC_CODE_PATH", ".");
                    try {
                        handlers = new Handlers(new File(code));
                        Thread.currentThread().setContextClassLoader(handlers.loader());
                    } catch (Exception e) {
                        loadFailure = e;
                    }
                    break;
                case "initialize":
                case "invoke":
                    if (workers == null) {
                        throw new java.io.IOException("a request before init");
                    }
                    final Frames.Frame request = frame;
                    workers.execute(() -> serve(request));
                    break;
                default:
                    break;
            }
        }
    }

    private void serve(Frames.Frame frame) {
        long id = ((Number) frame.header.get("id")).longValue();
        String requestId = FcContext.str(frame.header.get("requestId"));
        boolean initialize = frame.type().equals("initialize");
        logs.enter(requestId);
        Thread.currentThread().setContextClassLoader(handlers != null ? handlers.loader() : null);
        FcContext context = new FcContext(instance, requestId, frame.header, logs.logger(requestId));
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("id", id);
        byte[] body;
        try {
            body = initialize ? initialize(context) : invoke(frame, context, answer);
            answer.put("type", "result");
        } catch (Throwable t) {
            Map<String, Object> error;
            if (t instanceof Handlers.NotFound) {
                error = Errors.plain(t.getMessage(), ((Handlers.NotFound) t).type);
            } else {
                error = Errors.of(t);
            }
            String json = Json.write(error);
            logs.line(requestId, com.aliyun.fc.runtime.FunctionComputeLogger.Level.ERROR, json);
            answer.put("type", "error");
            answer.put("errorType", "UnhandledInvocationError");
            answer.remove("http");
            body = json.getBytes(StandardCharsets.UTF_8);
        } finally {
            logs.enter(null);
        }
        try {
            System.out.flush();
            logs.finish(requestId);
            if (body.length > Frames.MAX_FRAME - 64 * 1024) {
                body = java.util.Arrays.copyOf(body, Frames.MAX_FRAME - 64 * 1024);
            }
            frames.write(answer, body);
        } catch (java.io.IOException e) {
            Runtime.getRuntime().halt(0);
        }
    }

    private Handlers handlers() throws Throwable {
        if (loadFailure != null) {
            throw loadFailure;
        }
        return handlers;
    }

    private byte[] initialize(FcContext context) throws Throwable {
        if (instance.initializer == null || instance.initializer.isEmpty()) {
            return new byte[0];
        }
        Handlers.Target target = handlers().resolve(instance.initializer, true);
        target.method.setAccessible(true);
        target.method.invoke(target.object, context);
        return new byte[0];
    }

    private byte[] invoke(Frames.Frame frame, FcContext context, Map<String, Object> answer) throws Throwable {
        Handlers.Target target = handlers().resolve(instance.handler, false);
        target.method.setAccessible(true);
        switch (target.kind) {
            case STREAM: {
                ByteArrayOutputStream output = new ByteArrayOutputStream();
                target.method.invoke(target.object, new ByteArrayInputStream(frame.body), output, context);
                return output.toByteArray();
            }
            case POJO: {
                String text = new String(frame.body, StandardCharsets.UTF_8);
                java.lang.reflect.Type type = target.method.getGenericParameterTypes()[0];
                Object json;
                try {
                    json = text.trim().isEmpty() ? null : Json.parse(text);
                } catch (IllegalArgumentException e) {
                    if (Pojo.rawClass(type) != String.class) {
                        throw e;
                    }
                    json = text;
                }
                Object result = target.method.invoke(target.object, Pojo.to(json, type), context);
                return Json.write(Pojo.from(result, 0)).getBytes(StandardCharsets.UTF_8);
            }
            case HTTP:
                return Http.serve(target, frame, context, answer);
            default:
                throw new IllegalStateException("not a handler: " + instance.handler);
        }
    }
}
