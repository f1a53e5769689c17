package com.aliyun.fc.runtime;

import java.io.IOException;
import javax.servlet.ServletException;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** A handler for HTTP-triggered functions, servlet style. */
public interface HttpRequestHandler {
    void handleRequest(HttpServletRequest request, HttpServletResponse response, Context context)
            throws IOException, ServletException;
}
