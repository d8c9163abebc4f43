package io.metastream.client;


import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Names of the four metastream topics. Immutable; the canonical constructor rejects names Kafka would
 * refuse and duplicate names, so a {@code TopicNames} value can always be created on a broker.
 *
 * @param experience  input transitions, keyed by taskId
 * @param models      published model versions (compacted, keyed by modelName)
 * @param adapted     per-task adaptations (compacted, keyed by taskId)
 * @param deadLetters rejected input records with a reason
 */
public record TopicNames(String experience, String models, String adapted, String deadLetters) {

    /** Default name of the experience topic. */
    public static final String DEFAULT_EXPERIENCE = "metastream.experience";
    /** Default name of the models topic. */
    public static final String DEFAULT_MODELS = "metastream.models";
    /** Default name of the adapted topic. */
    public static final String DEFAULT_ADAPTED = "metastream.adapted";
    /** Default name of the dead-letter topic. */
    public static final String DEFAULT_DEAD_LETTERS = "metastream.dead-letters";

    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]+");
    private static final int MAX_LENGTH = 249;

    public TopicNames {
        List<String> all = List.of(
                check("experience", experience), check("models", models),
                check("adapted", adapted), check("deadLetters", deadLetters));
        Set<String> distinct = new HashSet<>(all);
        if (distinct.size() != all.size()) {
            throw new IllegalArgumentException("topic names must be distinct, got " + all
                    + "; give each of experience, models, adapted and deadLetters its own topic");
        }
    }

    /**
     * The production names: {@code metastream.experience}, {@code metastream.models},
     * {@code metastream.adapted}, {@code metastream.dead-letters}: the defaults of the job's topic
     * settings, of {@link ModelClient} and of the local broker.
     */
    public static TopicNames defaults() {
        return new TopicNames(DEFAULT_EXPERIENCE, DEFAULT_MODELS, DEFAULT_ADAPTED, DEFAULT_DEAD_LETTERS);
    }

    /** The same names with {@code suffix} appended to each, e.g. for one test's private topics. */
    public TopicNames withSuffix(String suffix) {
        Objects.requireNonNull(suffix, "suffix");
        return new TopicNames(experience + suffix, models + suffix, adapted + suffix, deadLetters + suffix);
    }

    public TopicNames withExperience(String name) {
        return new TopicNames(name, models, adapted, deadLetters);
    }

    public TopicNames withModels(String name) {
        return new TopicNames(experience, name, adapted, deadLetters);
    }

    public TopicNames withAdapted(String name) {
        return new TopicNames(experience, models, name, deadLetters);
    }

    public TopicNames withDeadLetters(String name) {
        return new TopicNames(experience, models, adapted, name);
    }

    /** All four names, in the order experience, models, adapted, dead letters. */
    public List<String> all() {
        return List.of(experience, models, adapted, deadLetters);
    }

    private static String check(String role, String name) {
        Objects.requireNonNull(name, role + " topic name");
        if (name.isEmpty() || name.length() > MAX_LENGTH || name.equals(".") || name.equals("..")
                || !LEGAL.matcher(name).matches()) {
            throw new IllegalArgumentException("illegal " + role + " topic name '" + name + "': Kafka topic names are 1 to "
                    + MAX_LENGTH + " characters of [a-zA-Z0-9._-] and neither '.' nor '..'");
        }
        return name;
    }
}
