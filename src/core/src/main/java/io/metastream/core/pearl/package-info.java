/**
 * PEARL (Rakelly, Zhou et al., "Efficient Off-Policy Meta-Reinforcement Learning via Probabilistic
 * Context Variables", ICML 2019): a permutation-invariant probabilistic encoder infers a belief over
 * the task variable z from a context of transitions, and soft actor-critic (Haarnoja et al. 2018)
 * learns a policy and twin critics conditioned on z.
 *
 * <p>{@link io.metastream.core.pearl.ContextEncoder} holds the encoder math (product of Gaussian
 * factors, reparameterised sample, KL and its gradient), {@link io.metastream.core.pearl.PearlLearner}
 * the stateful meta-learner fed by meta-batches of {@link io.metastream.core.pearl.TaskBatch}es, and
 * {@link io.metastream.core.pearl.PearlPolicy} the immutable snapshot agents act with. All gradients
 * are written by hand over {@link io.metastream.core.nn.MlpPass} and checked against finite
 * differences in the tests.
 */
package io.metastream.core.pearl;
