package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.HttpRequestHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import javax.servlet.ServletException;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** An HTTP handler: answers with what it saw. */
public class Web implements HttpRequestHandler {
    @Override
    public void handleRequest(HttpServletRequest request, HttpServletResponse response, Context context)
            throws IOException, ServletException {
        InputStream in = request.getInputStream();
        byte[] body = in.readAllBytes();
        response.setStatus(201);
        response.setHeader("X-Seen-Method", request.getMethod());
        response.addHeader("X-Multi", "a");
        response.addHeader("X-Multi", "b");
        response.setContentType("text/plain");
        String text = "path=" + request.getAttribute("FC_REQUEST_PATH") + " q=" + request.getParameter("q")
                + " h=" + request.getHeader("X-Custom") + " body=" + new String(body, StandardCharsets.UTF_8);
        OutputStream out = response.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
    }
}
