package com.aliyun.fc.runtime;

import java.util.Map;

/** Tracing information of the invocation (empty on Ferric). */
public interface OpenTracing {
    String getSpanContext();

    Map<String, String> getSpanBaggages();

    String getJaegerEndpoint();
}
