package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.StreamRequestHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

/**
 * Looks at the JVM from inside: {@code maps} answers the lines of /proc/self/maps naming a CDS archive
 * ({@code .jsa}); {@code log <tag>} writes interleaving lines through the logger, System.out and a thread
 * it starts, sleeping between them, so concurrent requests in one instance mix their output.
 */
public class Probe implements StreamRequestHandler {
    /** Tells JVMs apart (pids repeat across the instances' pid namespaces). */
    private static final String JVM = java.util.UUID.randomUUID().toString();

    @Override
    public void handleRequest(InputStream in, OutputStream out, Context context) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] b = new byte[4096];
        int n;
        while ((n = in.read(b)) > 0) {
            buf.write(b, 0, n);
        }
        String event = new String(buf.toByteArray(), StandardCharsets.UTF_8);
        StringBuilder answer = new StringBuilder();
        if (event.equals("maps")) {
            for (String line : Files.readAllLines(Paths.get("/proc/self/maps"))) {
                if (line.endsWith(".jsa")) {
                    answer.append(line.substring(line.lastIndexOf(' ') + 1)).append('\n');
                }
            }
        } else if (event.startsWith("log ")) {
            String tag = event.substring(4);
            Thread helper = new Thread(() -> {
                for (int i = 0; i < 5; i++) {
                    System.out.println("thread " + tag + " " + i);
                    pause();
                }
            });
            helper.start();
            for (int i = 0; i < 5; i++) {
                context.getLogger().info("logger " + tag + " " + i);
                System.out.println("stdout " + tag + " " + i);
                System.err.print("stderr " + tag + " part ");
                pause();
                System.err.println(i);
            }
            try {
                helper.join();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            answer.append(tag).append(' ').append(JVM);
        }
        out.write(answer.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void pause() {
        try {
            Thread.sleep(15);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
