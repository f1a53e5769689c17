package javax.servlet;

/** Servlet API 3.1's general failure of a servlet (here: of an HTTP handler). */
public class ServletException extends Exception {
    private static final long serialVersionUID = 1L;

    public ServletException() {
        super();
    }

    public ServletException(String message) {
        super(message);
    }

    public ServletException(String message, Throwable rootCause) {
        super(message, rootCause);
    }

    public ServletException(Throwable rootCause) {
        super(rootCause);
    }

    public Throwable getRootCause() {
        return getCause();
    }
}
