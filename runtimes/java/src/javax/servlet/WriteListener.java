package javax.servlet;

import java.io.IOException;
import java.util.EventListener;

/** Non-blocking writes (Servlet 3.1); Ferric's response stream is always ready. */
public interface WriteListener extends EventListener {
    void onWritePossible() throws IOException;

    void onError(Throwable t);
}
