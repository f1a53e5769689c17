package ferric.runtime;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.Credentials;
import com.aliyun.fc.runtime.FunctionComputeLogger;
import com.aliyun.fc.runtime.FunctionParam;
import com.aliyun.fc.runtime.OpenTracing;
import com.aliyun.fc.runtime.Service;
import java.util.Collections;
import java.util.Map;

/** One request's {@link Context}, built from the instance's {@code init} and the request's header. */
final class FcContext implements Context, Credentials, FunctionParam, Service, OpenTracing {
    /** What {@code init} said, fixed for the life of the instance. */
    static final class Instance {
        final String functionName;
        final String handler;
        final String initializer;
        final int timeoutSeconds;
        final int memoryMb;
        final String serviceName;
        final String logProject;
        final String logStore;
        final String qualifier;
        final String versionId;
        final int concurrency;

        Instance(Map<String, Object> init) {
            Map<String, Object> function = map(init.get("function"));
            Map<String, Object> service = map(init.get("service"));
            functionName = str(function.get("name"));
            handler = str(function.get("handler"));
            initializer = function.get("initializer") instanceof String ? (String) function.get("initializer") : null;
            timeoutSeconds = num(function.get("timeout"), 3);
            memoryMb = num(function.get("memory"), 128);
            serviceName = str(service.get("name"));
            logProject = str(service.get("logProject"));
            logStore = str(service.get("logStore"));
            qualifier = str(service.get("qualifier"));
            versionId = str(service.get("versionId"));
            concurrency = Math.max(1, Math.min(200, num(init.get("instanceConcurrency"), 1)));
        }
    }

    private final Instance instance;
    private final String requestId;
    private final Map<String, Object> credentials;
    private final FunctionComputeLogger logger;
    /** The request's own {@code service} (the qualifier the caller named) and {@code tracing}, when sent. */
    private final Map<String, Object> service;
    private final Map<String, Object> tracing;

    FcContext(Instance instance, String requestId, Map<String, Object> header, FunctionComputeLogger logger) {
        this.instance = instance;
        this.requestId = requestId;
        this.credentials = map(header.get("credentials"));
        this.service = map(header.get("service"));
        this.tracing = map(header.get("tracing"));
        this.logger = logger;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o instanceof Map ? (Map<String, Object>) o : Collections.<String, Object>emptyMap();
    }

    static String str(Object o) {
        return o instanceof String ? (String) o : "";
    }

    static int num(Object o, int otherwise) {
        return o instanceof Number ? ((Number) o).intValue() : otherwise;
    }

    @Override
    public String getRequestId() {
        return requestId;
    }

    @Override
    public Credentials getExecutionCredentials() {
        return this;
    }

    @Override
    public FunctionParam getFunctionParam() {
        return this;
    }

    @Override
    public Service getService() {
        return this;
    }

    @Override
    public FunctionComputeLogger getLogger() {
        return logger;
    }

    @Override
    public OpenTracing getTracing() {
        return this;
    }

    @Override
    public int getRetryCount() {
        return 0;
    }

    @Override
    public String getAccessKeyId() {
        return str(credentials.get("accessKeyId"));
    }

    @Override
    public String getAccessKeySecret() {
        return str(credentials.get("accessKeySecret"));
    }

    @Override
    public String getSecurityToken() {
        return str(credentials.get("securityToken"));
    }

    @Override
    public String getFunctionName() {
        return instance.functionName;
    }

    @Override
    public String getFunctionHandler() {
        return instance.handler;
    }

    @Override
    public String getFunctionInitializer() {
        return instance.initializer;
    }

    @Override
    public int getExecTimeLimitInMillis() {
        return instance.timeoutSeconds * 1000;
    }

    @Override
    public int getMemoryLimitInMB() {
        return instance.memoryMb;
    }

    @Override
    public String getName() {
        return instance.serviceName;
    }

    @Override
    public String getLogProject() {
        return instance.logProject;
    }

    @Override
    public String getLogStore() {
        return instance.logStore;
    }

    @Override
    public String getQualifier() {
        return service.get("qualifier") instanceof String ? (String) service.get("qualifier") : instance.qualifier;
    }

    @Override
    public String getVersionId() {
        return service.get("versionId") instanceof String ? (String) service.get("versionId") : instance.versionId;
    }

    @Override
    public String getSpanContext() {
        return str(tracing.get("openTracingSpanContext"));
    }

    @Override
    public Map<String, String> getSpanBaggages() {
        Map<String, String> baggages = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Object> e : map(tracing.get("openTracingSpanBaggages")).entrySet()) {
            if (e.getValue() instanceof String) {
                baggages.put(e.getKey(), (String) e.getValue());
            }
        }
        return Collections.unmodifiableMap(baggages);
    }

    @Override
    public String getJaegerEndpoint() {
        return str(tracing.get("jaegerEndpoint"));
    }
}
