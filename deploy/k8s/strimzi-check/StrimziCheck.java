// Reads a JSON array of Strimzi custom resources on stdin and checks each against Strimzi's
// API model (the classes its CRDs are generated from): a value of the wrong type or shape
// fails to bind, and a field the model does not know lands in an `additionalProperties` map
// (the operator would ignore it with a warning), which this reports. Exit 1 on any problem.
// Run with `java -cp 'libs/*' StrimziCheck.java` (Java's single-file source launcher).

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

public class StrimziCheck {
    static final String API_VERSION = "kafka.strimzi.io/v1beta2";
    static final Map<String, String> KINDS = Map.of(
            "Kafka", "io.strimzi.api.kafka.model.kafka.Kafka",
            "KafkaNodePool", "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
            "KafkaTopic", "io.strimzi.api.kafka.model.topic.KafkaTopic");

    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper()
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS);
        JsonNode resources = mapper.readTree(System.in);
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (JsonNode resource : resources) {
            String kind = resource.path("kind").asText();
            String where = kind + "/" + resource.path("metadata").path("name").asText();
            String className = KINDS.get(kind);
            if (className == null || !API_VERSION.equals(resource.path("apiVersion").asText())) {
                problems.add(where + ": not a " + API_VERSION + " kind of " + KINDS.keySet());
                continue;
            }
            try {
                Object bound = mapper.treeToValue(resource, Class.forName(className));
                walk(bound, where, problems, Collections.newSetFromMap(new IdentityHashMap<>()));
                checked++;
            } catch (Exception e) {
                problems.add(where + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            }
        }
        problems.forEach(System.out::println);
        System.out.println(checked + " checked, " + problems.size() + " problems");
        System.exit(problems.isEmpty() ? 0 : 1);
    }

    /** Every model object under `value`, through its getters, for fields nobody knew. */
    static void walk(Object value, String path, List<String> problems, Set<Object> seen) {
        if (value == null || !seen.add(value)) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int index = 0;
            for (Object item : items) {
                walk(item, path + "[" + index++ + "]", problems, seen);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                walk(entry.getValue(), path + "." + entry.getKey(), problems, seen);
            }
            return;
        }
        String home = value.getClass().getPackageName();
        if (value.getClass().isEnum() || !(home.startsWith("io.strimzi.") || home.startsWith("io.fabric8."))) {
            return;
        }
        for (Method method : value.getClass().getMethods()) {
            String name = method.getName();
            if (method.getParameterCount() != 0 || Modifier.isStatic(method.getModifiers())
                    || !name.startsWith("get") || name.length() == 3
                    || method.getDeclaringClass() == Object.class) {
                continue;
            }
            Object got;
            try {
                got = method.invoke(value);
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue; // a computed getter that needs more than the bound value
            }
            if (name.equals("getAdditionalProperties")) {
                if (got instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    problems.add(path + ": unknown field(s) " + extra.keySet());
                }
                continue;
            }
            walk(got, path + "." + Character.toLowerCase(name.charAt(3)) + name.substring(4), problems, seen);
        }
    }
}
