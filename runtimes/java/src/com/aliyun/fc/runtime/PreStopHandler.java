package com.aliyun.fc.runtime;

import java.io.IOException;

/** Lifecycle hook FC calls before stopping an instance (not called by Ferric yet). */
public interface PreStopHandler {
    void preStop(Context context) throws IOException;
}
