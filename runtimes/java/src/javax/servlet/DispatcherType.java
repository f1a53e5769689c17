package javax.servlet;

/** Servlet 3.1's dispatcher types; every Ferric request is {@code REQUEST}. */
public enum DispatcherType {
    FORWARD, INCLUDE, REQUEST, ASYNC, ERROR
}
