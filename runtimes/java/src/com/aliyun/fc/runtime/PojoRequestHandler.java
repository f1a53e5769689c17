package com.aliyun.fc.runtime;

/** A handler whose event is JSON read into {@code I} and whose result {@code O} is written as JSON. */
public interface PojoRequestHandler<I, O> {
    O handleRequest(I input, Context context);
}
