package io.metastream.core.settings;

/**
 * One setting as {@code help} and the README's settings table show it: its key, type, default (empty
 * when the setting is required) and description.
 */
public record Setting(String key, String type, String defaultValue, String description) {}
