package com.aliyun.fc.runtime;

/** What a handler knows of its invocation (fc-java-core's {@code Context}). */
public interface Context {
    String getRequestId();

    Credentials getExecutionCredentials();

    FunctionParam getFunctionParam();

    Service getService();

    FunctionComputeLogger getLogger();

    OpenTracing getTracing();

    int getRetryCount();
}
