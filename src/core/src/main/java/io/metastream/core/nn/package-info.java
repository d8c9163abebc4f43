/**
 * Multi-layer perceptrons over a flat float64 parameter vector, with hand-written backpropagation
 * and exact Hessian-vector products (Pearlmutter's R-operator), for meta-learning inner and outer
 * loops. See {@link io.metastream.core.nn.Mlp} for the parameter layout.
 */
package io.metastream.core.nn;
