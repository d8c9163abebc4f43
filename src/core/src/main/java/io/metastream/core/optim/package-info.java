/** First-order optimizers over flat float64 parameter vectors. */
package io.metastream.core.optim;
