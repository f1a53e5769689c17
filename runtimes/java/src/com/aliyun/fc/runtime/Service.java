package com.aliyun.fc.runtime;

/** The service the function belongs to. */
public interface Service {
    String getName();

    String getLogProject();

    String getLogStore();

    String getQualifier();

    String getVersionId();
}
