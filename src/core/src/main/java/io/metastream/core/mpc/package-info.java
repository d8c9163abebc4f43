/**
 * Model-predictive control with a learned batched dynamics model: random shooting and the
 * cross-entropy method over action sequences.
 */
package io.metastream.core.mpc;
