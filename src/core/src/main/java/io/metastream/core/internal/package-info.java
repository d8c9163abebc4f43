/**
 * Helpers shared by the packages of metastream-core. Not part of the public API: types here may
 * change without notice and must not be used from other modules.
 */
package io.metastream.core.internal;
