package javax.servlet.http;

/** Declared so the request interface links; {@code upgrade()} is refused. */
public interface HttpUpgradeHandler {
    void init(WebConnection wc);

    void destroy();
}
