package com.aliyun.fc.runtime;

import java.io.IOException;

/** The function's initializer: runs once per instance, before its first invocation. */
public interface FunctionInitializer {
    void initialize(Context context) throws IOException;
}
