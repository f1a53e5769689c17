package com.aliyun.fc.runtime;

import java.io.IOException;

/** Lifecycle hook FC calls before freezing an instance (never called by Ferric, which does not freeze). */
public interface PreFreezeHandler {
    void preFreeze(Context context) throws IOException;
}
