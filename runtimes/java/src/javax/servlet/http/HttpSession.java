package javax.servlet.http;

import java.util.Enumeration;
import javax.servlet.ServletContext;

/** Declared so the request interface links; Ferric keeps no sessions ({@code getSession(false)} is null). */
public interface HttpSession {
    long getCreationTime();

    String getId();

    long getLastAccessedTime();

    ServletContext getServletContext();

    void setMaxInactiveInterval(int interval);

    int getMaxInactiveInterval();

    Object getAttribute(String name);

    Enumeration<String> getAttributeNames();

    void setAttribute(String name, Object value);

    void removeAttribute(String name);

    void invalidate();

    boolean isNew();
}
