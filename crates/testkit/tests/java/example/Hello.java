package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.FunctionInitializer;
import com.aliyun.fc.runtime.StreamRequestHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** A stream handler with an initializer: echoes, fails, sleeps, exits or eats memory on request. */
public class Hello implements StreamRequestHandler, FunctionInitializer {
    private static int initialized;
    private static int invokes;

    @Override
    public void initialize(Context context) throws IOException {
        initialized++;
        context.getLogger().info("initializing " + context.getRequestId());
    }

    @Override
    public void handleRequest(InputStream in, OutputStream out, Context context) throws IOException {
        invokes++;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] b = new byte[4096];
        int n;
        while ((n = in.read(b)) > 0) {
            buf.write(b, 0, n);
        }
        String event = new String(buf.toByteArray(), StandardCharsets.UTF_8);
        System.out.println("event " + event);
        context.getLogger().info("info line");
        context.getLogger().debug("debug line hidden");
        switch (event) {
            case "fail":
                throw new IOException("oops");
            case "sleep":
                try {
                    Thread.sleep(10_000);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                break;
            case "exit":
                System.exit(3);
                break;
            case "eat":
                java.util.List<byte[]> hog = new java.util.ArrayList<>();
                while (true) {
                    hog.add(new byte[1 << 20]);
                }
            default:
                break;
        }
        String pid = String.valueOf(ProcessHandle.current().pid());
        String body = "{\"event\":\"" + event + "\",\"initialized\":" + initialized + ",\"invokes\":" + invokes
                + ",\"pid\":" + pid + ",\"requestId\":\"" + context.getRequestId() + "\",\"function\":\""
                + context.getFunctionParam().getFunctionName() + "\",\"memory\":"
                + context.getFunctionParam().getMemoryLimitInMB() + ",\"service\":\"" + context.getService().getName()
                + "\",\"qualifier\":\"" + context.getService().getQualifier()
                + "\",\"span\":\"" + context.getTracing().getSpanContext()
                + "\",\"baggages\":" + context.getTracing().getSpanBaggages().size()
                + ",\"hasKey\":" + (context.getExecutionCredentials().getAccessKeyId() != null) + "}";
        out.write(body.getBytes(StandardCharsets.UTF_8));
    }
}
