/**
 * GrBAL (Nagabandi et al., "Learning to Adapt in Dynamic, Real-World Environments through
 * Meta-Reinforcement Learning", ICLR 2019): a dynamics model {@code f_θ(s, a) → s' − s} that is
 * meta-trained so that a few gradient steps on the last {@code M} transitions of a task make it
 * predict the next {@code K} transitions well.
 *
 * <p>{@link io.metastream.core.grbal.Grbal} holds the stateless math (inner loop and meta-gradient),
 * {@link io.metastream.core.grbal.GrbalLearner} the stateful outer loop fed by a stream of task
 * segments, and {@link io.metastream.core.grbal.DynamicsModel} the immutable snapshot used for
 * prediction, per-task adaptation and planning.
 */
package io.metastream.core.grbal;
