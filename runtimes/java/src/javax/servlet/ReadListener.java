package javax.servlet;

import java.io.IOException;
import java.util.EventListener;

/** Non-blocking reads (Servlet 3.1); Ferric's request body is complete before the handler runs. */
public interface ReadListener extends EventListener {
    void onDataAvailable() throws IOException;

    void onAllDataRead() throws IOException;

    void onError(Throwable t);
}
