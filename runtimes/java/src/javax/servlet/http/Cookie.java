package javax.servlet.http;

import java.io.Serializable;

/** An HTTP cookie (Servlet 3.1's class, same accessors). */
public class Cookie implements Cloneable, Serializable {
    private static final long serialVersionUID = 1L;

    private final String name;
    private String value;
    private String comment;
    private String domain;
    private int maxAge = -1;
    private String path;
    private boolean secure;
    private int version;
    private boolean httpOnly;

    public Cookie(String name, String value) {
        if (name == null || name.isEmpty() || name.startsWith("$") || !isToken(name)) {
            throw new IllegalArgumentException("invalid cookie name: " + name);
        }
        this.name = name;
        this.value = value;
    }

    private static boolean isToken(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7e || ",; =\"()<>@:\\/[]?{}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    public void setComment(String purpose) {
        comment = purpose;
    }

    public String getComment() {
        return comment;
    }

    public void setDomain(String pattern) {
        domain = pattern == null ? null : pattern.toLowerCase(java.util.Locale.ENGLISH);
    }

    public String getDomain() {
        return domain;
    }

    public void setMaxAge(int expiry) {
        maxAge = expiry;
    }

    public int getMaxAge() {
        return maxAge;
    }

    public void setPath(String uri) {
        path = uri;
    }

    public String getPath() {
        return path;
    }

    public void setSecure(boolean flag) {
        secure = flag;
    }

    public boolean getSecure() {
        return secure;
    }

    public String getName() {
        return name;
    }

    public void setValue(String newValue) {
        value = newValue;
    }

    public String getValue() {
        return value;
    }

    public int getVersion() {
        return version;
    }

    public void setVersion(int v) {
        version = v;
    }

    public void setHttpOnly(boolean isHttpOnly) {
        httpOnly = isHttpOnly;
    }

    public boolean isHttpOnly() {
        return httpOnly;
    }

    @Override
    public Object clone() {
        try {
            return super.clone();
        } catch (CloneNotSupportedException e) {
            throw new RuntimeException(e);
        }
    }
}
