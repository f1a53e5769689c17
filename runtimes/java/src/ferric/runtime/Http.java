package ferric.runtime;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.servlet.ReadListener;
import javax.servlet.ServletInputStream;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * An HTTP trigger's request as {@link HttpServletRequest} and the handler's answer as
 * {@link HttpServletResponse}, both dynamic proxies over the protocol's {@code http} header: the methods
 * that make sense without a servlet container answer from the request (headers, query, body, FC's
 * {@code FC_REQUEST_PATH}/{@code FC_REQUEST_URI}/{@code FC_REQUEST_CLIENT_IP} attributes); sessions, the
 * servlet context, dispatchers and async answer null or throw {@link UnsupportedOperationException}.
 */
final class Http {
    private Http() {
    }

    @SuppressWarnings("unchecked")
    static byte[] serve(Handlers.Target target, Frames.Frame frame, FcContext context, Map<String, Object> answer)
            throws Throwable {
        Map<String, Object> http = FcContext.map(frame.header.get("http"));
        Map<String, Object> headers = FcContext.map(http.get("headers"));
        Map<String, Object> queries = FcContext.map(http.get("queries"));
        Map<String, Object> attributes = new HashMap<>();
        attributes.put("FC_REQUEST_PATH", FcContext.str(http.get("path")));
        attributes.put("FC_REQUEST_URI", FcContext.str(http.get("requestURI")));
        attributes.put("FC_REQUEST_CLIENT_IP", FcContext.str(http.get("clientIP")));
        byte[] requestBody = frame.body;
        ByteArrayInputStream bodyStream = new ByteArrayInputStream(requestBody);
        ServletInputStream input = new ServletInputStream() {
            @Override
            public int read() {
                return bodyStream.read();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return bodyStream.read(b, off, len);
            }

            @Override
            public boolean isFinished() {
                return bodyStream.available() == 0;
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener l) {
                throw new UnsupportedOperationException("non-blocking reads");
            }
        };
        String uri = FcContext.str(http.get("requestURI"));
        int q = uri.indexOf('?');
        Object request = Proxy.newProxyInstance(Http.class.getClassLoader(), new Class<?>[] {HttpServletRequest.class},
            (proxy, m, a) -> {
                switch (m.getName()) {
                    case "getAttribute": return attributes.get((String) a[0]);
                    case "setAttribute": attributes.put((String) a[0], a[1]); return null;
                    case "removeAttribute": attributes.remove((String) a[0]); return null;
                    case "getAttributeNames": return Collections.enumeration(new ArrayList<>(attributes.keySet()));
                    case "getMethod": return FcContext.str(http.get("method"));
                    case "getPathInfo": return FcContext.str(http.get("path"));
                    case "getRequestURI": return q >= 0 ? uri.substring(0, q) : uri;
                    case "getQueryString": return q >= 0 ? uri.substring(q + 1) : null;
                    case "getRequestURL": return new StringBuffer("http://" + FcContext.str(http.get("host"))
                            + (q >= 0 ? uri.substring(0, q) : uri));
                    case "getContextPath": case "getServletPath": return "";
                    case "getRemoteAddr": case "getRemoteHost": return FcContext.str(http.get("clientIP"));
                    case "getServerName": return FcContext.str(http.get("host")).replaceFirst(":\\d+$", "");
                    case "getProtocol": return "HTTP/1.1";
                    case "getScheme": return "http";
                    case "getHeader": {
                        List<Object> v = (List<Object>) headers.get(((String) a[0]).toLowerCase());
                        return v == null || v.isEmpty() ? null : v.get(0);
                    }
                    case "getHeaders": {
                        List<Object> v = (List<Object>) headers.get(((String) a[0]).toLowerCase());
                        return Collections.enumeration(v == null ? Collections.emptyList() : v);
                    }
                    case "getHeaderNames": return Collections.enumeration(new ArrayList<>(headers.keySet()));
                    case "getIntHeader": {
                        List<Object> v = (List<Object>) headers.get(((String) a[0]).toLowerCase());
                        return v == null || v.isEmpty() ? -1 : Integer.parseInt((String) v.get(0));
                    }
                    case "getContentType": {
                        List<Object> v = (List<Object>) headers.get("content-type");
                        return v == null || v.isEmpty() ? null : v.get(0);
                    }
                    case "getContentLength": return requestBody.length;
                    case "getContentLengthLong": return (long) requestBody.length;
                    case "getCharacterEncoding": return "UTF-8";
                    case "setCharacterEncoding": return null;
                    case "getInputStream": return input;
                    case "getReader": return new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8));
                    case "getParameter": {
                        List<Object> v = (List<Object>) queries.get((String) a[0]);
                        return v == null || v.isEmpty() ? null : v.get(0);
                    }
                    case "getParameterValues": {
                        List<Object> v = (List<Object>) queries.get((String) a[0]);
                        return v == null ? null : v.toArray(new String[0]);
                    }
                    case "getParameterNames": return Collections.enumeration(new ArrayList<>(queries.keySet()));
                    case "getParameterMap": {
                        Map<String, String[]> map = new TreeMap<>();
                        for (Map.Entry<String, Object> e : queries.entrySet()) {
                            map.put(e.getKey(), ((List<Object>) e.getValue()).toArray(new String[0]));
                        }
                        return map;
                    }
                    case "isSecure": case "isAsyncStarted": case "isAsyncSupported": case "isUserInRole":
                    case "isRequestedSessionIdValid": case "isRequestedSessionIdFromCookie":
                    case "isRequestedSessionIdFromURL": case "isRequestedSessionIdFromUrl":
                        return false;
                    case "getDispatcherType": return javax.servlet.DispatcherType.REQUEST;
                    case "getLocale": return java.util.Locale.getDefault();
                    case "getLocales": return Collections.enumeration(Collections.singletonList(java.util.Locale.getDefault()));
                    case "getServerPort": case "getLocalPort": case "getRemotePort": return 0;
                    case "getDateHeader": return -1L;
                    case "hashCode": return System.identityHashCode(proxy);
                    case "equals": return proxy == a[0];
                    case "toString": return "HttpServletRequest(" + FcContext.str(http.get("method")) + " " + uri + ")";
                    case "getCookies": case "getSession": case "getServletContext": case "getRequestDispatcher":
                    case "getAuthType": case "getRemoteUser": case "getUserPrincipal": case "getRequestedSessionId":
                    case "getPathTranslated": case "getRealPath": case "getLocalName": case "getLocalAddr":
                    case "getAsyncContext":
                        return null;
                    default:
                        throw new UnsupportedOperationException(m.getName() + " is not supported by Ferric's Java runtime");
                }
            });

        ByteArrayOutputStream body = new ByteArrayOutputStream();
        ServletOutputStream output = new ServletOutputStream() {
            @Override
            public void write(int b) {
                body.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                body.write(b, off, len);
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener l) {
                throw new UnsupportedOperationException("non-blocking writes");
            }
        };
        PrintWriter writer = new PrintWriter(new OutputStreamWriter(output, StandardCharsets.UTF_8));
        Map<String, List<String>> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        Map<String, String> names = new HashMap<>();
        int[] status = {200};
        Object response = Proxy.newProxyInstance(Http.class.getClassLoader(), new Class<?>[] {HttpServletResponse.class},
            (proxy, m, a) -> {
                switch (m.getName()) {
                    case "setStatus": status[0] = (Integer) a[0]; return null;
                    case "getStatus": return status[0];
                    case "sendError": status[0] = (Integer) a[0]; return null;
                    case "sendRedirect": status[0] = 302; put(out, names, "Location", (String) a[0], true); return null;
                    case "setHeader": put(out, names, (String) a[0], (String) a[1], true); return null;
                    case "addHeader": put(out, names, (String) a[0], (String) a[1], false); return null;
                    case "setIntHeader": put(out, names, (String) a[0], String.valueOf(a[1]), true); return null;
                    case "addIntHeader": put(out, names, (String) a[0], String.valueOf(a[1]), false); return null;
                    case "setContentType": put(out, names, "Content-Type", (String) a[0], true); return null;
                    case "getContentType": {
                        List<String> v = out.get("Content-Type");
                        return v == null ? null : v.get(0);
                    }
                    case "containsHeader": return out.containsKey((String) a[0]);
                    case "getHeader": {
                        List<String> v = out.get((String) a[0]);
                        return v == null ? null : v.get(0);
                    }
                    case "getHeaders": return out.getOrDefault((String) a[0], Collections.emptyList());
                    case "getHeaderNames": return new ArrayList<>(names.values());
                    case "getOutputStream": return output;
                    case "getWriter": return writer;
                    case "getCharacterEncoding": return "UTF-8";
                    case "encodeURL": case "encodeRedirectURL": case "encodeUrl": case "encodeRedirectUrl": return a[0];
                    case "isCommitted": return false;
                    case "getBufferSize": return body.size();
                    case "flushBuffer": writer.flush(); return null;
                    case "resetBuffer": body.reset(); return null;
                    case "reset": body.reset(); out.clear(); names.clear(); status[0] = 200; return null;
                    case "getLocale": return java.util.Locale.getDefault();
                    case "hashCode": return System.identityHashCode(proxy);
                    case "equals": return proxy == a[0];
                    case "toString": return "HttpServletResponse(" + status[0] + ")";
                    case "addCookie": {
                        javax.servlet.http.Cookie c = (javax.servlet.http.Cookie) a[0];
                        String v = c.getName() + "=" + c.getValue() + (c.getPath() != null ? "; Path=" + c.getPath() : "")
                                + (c.getMaxAge() >= 0 ? "; Max-Age=" + c.getMaxAge() : "")
                                + (c.getSecure() ? "; Secure" : "") + (c.isHttpOnly() ? "; HttpOnly" : "");
                        put(out, names, "Set-Cookie", v, false);
                        return null;
                    }
                    default:
                        // setCharacterEncoding, setContentLength, setBufferSize, setLocale, date headers: nothing to keep.
                        return null;
                }
            });
        target.method.invoke(target.object, request, response, context);
        writer.flush();
        Map<String, Object> head = new java.util.LinkedHashMap<>();
        head.put("status", status[0]);
        Map<String, Object> outHeaders = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : out.entrySet()) {
            outHeaders.put(names.get(e.getKey().toLowerCase()), e.getValue());
        }
        head.put("headers", outHeaders);
        answer.put("http", head);
        return body.toByteArray();
    }

    private static void put(Map<String, List<String>> out, Map<String, String> names, String name, String value,
            boolean replace) {
        if (name == null || value == null) {
            return;
        }
        names.putIfAbsent(name.toLowerCase(), name);
        List<String> values = out.computeIfAbsent(name, k -> new ArrayList<>());
        if (replace) {
            values.clear();
        }
        values.add(value);
    }
}
