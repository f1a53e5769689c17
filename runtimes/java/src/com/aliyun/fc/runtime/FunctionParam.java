package com.aliyun.fc.runtime;

/** The function's configuration as the instance runs it. */
public interface FunctionParam {
    String getFunctionName();

    String getFunctionHandler();

    String getFunctionInitializer();

    int getExecTimeLimitInMillis();

    int getMemoryLimitInMB();
}
