package javax.servlet;

import java.io.IOException;

/** Declared so the request interface links; Ferric has no servlet container to dispatch into. */
public interface RequestDispatcher {
    void forward(ServletRequest request, ServletResponse response) throws ServletException, IOException;

    void include(ServletRequest request, ServletResponse response) throws ServletException, IOException;
}
