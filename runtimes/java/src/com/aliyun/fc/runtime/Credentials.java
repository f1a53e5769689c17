package com.aliyun.fc.runtime;

/** The temporary credentials of the service's role. */
public interface Credentials {
    String getAccessKeyId();

    String getAccessKeySecret();

    String getSecurityToken();
}
