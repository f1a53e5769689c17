package javax.servlet;

/** Declared so the request interface links; Ferric has no servlet context ({@code getServletContext()} is null). */
public interface ServletContext {
    String getContextPath();

    String getMimeType(String file);

    Object getAttribute(String name);

    String getInitParameter(String name);

    void log(String msg);
}
