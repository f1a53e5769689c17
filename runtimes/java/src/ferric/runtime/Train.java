package ferric.runtime;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.HttpRequestHandler;
import com.aliyun.fc.runtime.PojoRequestHandler;
import com.aliyun.fc.runtime.StreamRequestHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * Builds the class-data-sharing archive every Java instance maps at start (crates/invoker/src/java.rs).
 * It runs the request loop over in-memory frames through each kind of handler (stream with an
 * initializer, POJO, HTTP, a throwing one), so the classes an instance loads on its way to a first answer
 * are loaded here; then it asks the JVM to dump them ({@code VM.cds dynamic_dump}, the JVM being started
 * with {@code -XX:+RecordDynamicDumpInfo}) to {@code args[0]}, and sends that file back on the control
 * socket as one {@code archive} frame. The dump happens inside the sandbox, where the class path is the one
 * instances have: CDS refuses an archive whose class path differs, and the sandbox's /tmp is private, so
 * the bytes travel over the socket.
 */
public final class Train {
    private Train() {
    }

    public static void main(String[] args) throws Exception {
        Frames control = Frames.openControlFd(Integer.parseInt(System.getenv().getOrDefault("FERRIC_CONTROL_FD", "3")));
        String handler = Handler.class.getName();
        phase(handler + "::handleRequest", handler + "::initialize", null, "stream".getBytes(StandardCharsets.UTF_8));
        phase(Pojo.class.getName() + "::handleRequest", null, null, "{\"name\":\"fc\",\"n\":[1,2]}".getBytes(StandardCharsets.UTF_8));
        phase(Web.class.getName() + "::handleRequest", null, httpRequest(), "body".getBytes(StandardCharsets.UTF_8));
        phase(handler + "::handleRequest", null, null, "fail".getBytes(StandardCharsets.UTF_8));
        String path = args[0];
        ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                "vmCds", new Object[] {new String[] {"dynamic_dump", path}}, new String[] {String[].class.getName()});
        byte[] archive = Files.readAllBytes(Paths.get(path));
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("type", "archive");
        control.write(header, archive);
        Runtime.getRuntime().halt(0);
    }

    /** One instance's life: init, the initializer if any, one invocation; returns once both answered. */
    private static void phase(String handler, String initializer, Map<String, Object> http, byte[] event)
            throws Exception {
        ByteArrayOutputStream input = new ByteArrayOutputStream();
        Frames writer = new Frames(null, input);
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("handler", handler);
        function.put("initializer", initializer);
        function.put("memory", 128);
        function.put("name", "train");
        function.put("timeout", 3);
        Map<String, Object> service = new LinkedHashMap<>();
        service.put("name", "train");
        Map<String, Object> init = new LinkedHashMap<>();
        init.put("function", function);
        init.put("instanceConcurrency", 1);
        init.put("service", service);
        init.put("type", "init");
        writer.write(init, new byte[0]);
        int answers = 1;
        if (initializer != null) {
            writer.write(request("initialize", 1, null), new byte[0]);
            answers++;
        }
        writer.write(request("invoke", 2, http), event);
        Answers output = new Answers();
        Frames frames = new Frames(new DataInputStream(new ByteArrayInputStream(input.toByteArray())), output);
        Bootstrap.serve(frames);
        output.await(answers);
    }

    private static Map<String, Object> request(String type, long id, Map<String, Object> http) {
        Map<String, Object> credentials = new LinkedHashMap<>();
        credentials.put("accessKeyId", "");
        credentials.put("accessKeySecret", "");
        credentials.put("securityToken", "");
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("credentials", credentials);
        header.put("http", http);
        header.put("id", id);
        header.put("requestId", "train-" + id);
        header.put("type", type);
        return header;
    }

    private static Map<String, Object> httpRequest() {
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("content-type", new ArrayList<>(Arrays.asList("text/plain")));
        Map<String, Object> queries = new LinkedHashMap<>();
        queries.put("q", new ArrayList<>(Arrays.asList("1")));
        Map<String, Object> http = new LinkedHashMap<>();
        http.put("clientIP", "127.0.0.1");
        http.put("headers", headers);
        http.put("host", "localhost");
        http.put("method", "POST");
        http.put("path", "/train");
        http.put("queries", queries);
        http.put("requestURI", "/2016-08-15/proxy/train/train/train?q=1");
        return http;
    }

    /** The runtime's output frames, counted: returns once {@code n} results or errors arrived (10 s at most). */
    private static final class Answers extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            notifyAll();
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            notifyAll();
        }

        synchronized void await(int n) throws Exception {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (count() < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("the training requests did not answer");
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }

        private int count() throws IOException {
            Frames reader = new Frames(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), null);
            int answers = 0;
            Frames.Frame frame;
            try {
                while ((frame = reader.read()) != null) {
                    String type = frame.type();
                    answers += type.equals("result") || type.equals("error") ? 1 : 0;
                }
            } catch (IOException partial) {
                // A frame still being written: counted on the next write.
            }
            return answers;
        }
    }

    /** A stream handler with an initializer that logs, prints and fails on request, as functions do. */
    public static final class Handler implements StreamRequestHandler, com.aliyun.fc.runtime.FunctionInitializer {
        @Override
        public void initialize(Context context) {
            context.getLogger().info("initializing " + context.getFunctionParam().getFunctionName());
        }

        @Override
        public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
            byte[] event = new byte[64];
            int n = Math.max(0, input.read(event));
            String text = new String(event, 0, n, StandardCharsets.UTF_8);
            System.out.println("event " + text);
            context.getLogger().info("request " + context.getRequestId());
            if (text.equals("fail")) {
                throw new IOException("training failure");
            }
            output.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A POJO handler: a JSON object in, a bean out. */
    public static final class Pojo implements PojoRequestHandler<Map<String, Object>, Answer> {
        @Override
        public Answer handleRequest(Map<String, Object> input, Context context) {
            Answer answer = new Answer();
            answer.setGreeting("hello " + input.get("name"));
            List<?> numbers = (List<?>) input.get("n");
            answer.setCount(numbers == null ? 0 : numbers.size());
            return answer;
        }
    }

    /** The POJO handler's answer bean. */
    public static final class Answer {
        private String greeting;
        private int count;

        public String getGreeting() {
            return greeting;
        }

        public void setGreeting(String greeting) {
            this.greeting = greeting;
        }

        public int getCount() {
            return count;
        }

        public void setCount(int count) {
            this.count = count;
        }
    }

    /** An HTTP handler reading the request and writing status, headers and body. */
    public static final class Web implements HttpRequestHandler {
        @Override
        public void handleRequest(HttpServletRequest request, HttpServletResponse response, Context context)
                throws IOException {
            byte[] body = new byte[16];
            int n = Math.max(0, request.getInputStream().read(body));
            response.setStatus(201);
            response.setHeader("content-type", "text/plain");
            response.addHeader("x-train", request.getMethod() + " " + request.getParameter("q") + " " + n);
            response.getOutputStream().write(("path=" + request.getAttribute("FC_REQUEST_PATH")).getBytes(StandardCharsets.UTF_8));
        }
    }
}
