/** Versioned binary encodings of models and parameter deltas, for Kafka records and checkpoints. */
package io.metastream.core.io;
