package javax.servlet;

/** Declared so the request interface links; Ferric does not support asynchronous servlets. */
public interface AsyncContext {
    ServletRequest getRequest();

    ServletResponse getResponse();

    void complete();
}
