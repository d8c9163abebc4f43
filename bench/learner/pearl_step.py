#!/usr/bin/env python3
"""One PEARL learner step in PyTorch, mirroring io.metastream.core.pearl.PearlLearner.step.

What one step computes (the same as PearlLearner.step at PearlConfig.builder().obsDim(2).actDim(2)):
  * Networks (hidden ReLU, linear output; weights Xavier-uniform, biases 0, as Mlp.initParams):
      encoder  context (2*obs+act+1 = 7) -> 200 -> 200 -> 200 -> 2*latent (10: mu_n, raw variance_n)
      policy   [s, z] (7) -> 300 -> 300 -> 300 -> 2*act (mean, log std)
      Q1, Q2   [s, a, z] (9) -> 300 -> 300 -> 300 -> 1, and Polyak targets Q1', Q2'; no value network.
  * Meta-batch of 16 tasks: context 100 rows and RL batch 256 rows per task (M = 4096 stacked rows),
    stacked from per-task tensors every step (PearlLearner copies its TaskBatch list the same way).
  * Encoder: one pass over all 1600 context rows; per task the product of Gaussian factors
    (var_n = max(softplus(raw_n), 1e-7), var = 1/sum(1/var_n), mu = var*sum(mu_n/var_n)),
    z = mu + sqrt(var)*eps, KL = sum_tasks KL(q || N(0, I)).
  * Critic: y = rewardScale*r + gamma*(1-d)*(min_j Q'_j(s', a', zbar) - alpha*log pi(a'|s', zbar)),
    a' ~ pi(.|s', zbar) (constant target); J_Q = mean (Q1-y)^2 + mean (Q2-y)^2.
    The encoder gets its gradient from J_Q (through z) + klWeight*KL only (not from the actor).
  * Actor: J_pi = mean(alpha*log pi(a~|s, zbar) - min_i Q_i(s, a~, zbar)), a~ = tanh(mu + sigma*xi),
    log std clamped to [-20, 2]; gradient for the policy parameters only (critics not differentiated
    for their parameters, z a constant).
  * Temperature: J(log alpha) = -log alpha * (mean log pi + target entropy), target entropy = -act;
    alpha = exp(log alpha) is a constant inside J_Q and J_pi.
  * All losses at the parameters before the step; then Adam (lr 3e-4, betas 0.9/0.999, eps 1e-8) on
    encoder, policy, Q1, Q2, log alpha, and Polyak averaging of the targets (tau 0.005).
  * Guard (as PearlLearner, on by default, --no-guard drops it): losses and gradients checked finite
    (one sum per vector) before the update; parameters and Adam states backed up before it and
    checked finite after it (rolled back when not).
The noise (eps, xi', xi) is drawn fresh every step with torch.randn.

Prints one JSON line to stdout: {"stepsPerSecond", "medianStepMs", "dtype", "threads", "torch", ...}.
stepsPerSecond = timed steps / wall time of the timed loop (after --warmup untimed steps); with
--repetitions R, the median over R such loops. With --serve (used by LearnerBench, which interleaves
its ND4J repetitions with these), it warms up, prints {"ready": true, ...}, then times --steps steps
for every line "run" read from stdin and prints one JSON line per repetition.
Standalone: /usr/bin/python3 bench/learner/pearl_step.py --dtype float64 --threads 1 --repetitions 3
The BLAS that torch really loaded (libblas.so.3 is a Debian alternative; the reference BLAS is
~7x slower than OpenBLAS for DGEMM) is reported as "blas", read from /proc/self/maps.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repetitions", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--device", default="cpu",
                   help="torch device for the networks and the batch: cpu (default, what LearnerBench compares) or "
                        "cuda (the GPU reference figure; the timed loop ends with torch.cuda.synchronize)")
    p.add_argument("--no-guard", action="store_true", help="skip the finiteness checks, backups and rollback")
    p.add_argument("--serve", action="store_true",
                   help="for LearnerBench: warm up, print a JSON line with \"ready\", then time --steps steps for "
                        "every line 'run' read from stdin (one JSON line each) until EOF or 'quit'")
    a = p.parse_args(argv)
    for name in ("steps", "repetitions", "threads"):
        if getattr(a, name) < 1:
            p.error("--%s must be >= 1" % name)
    if a.warmup < 0:
        p.error("--warmup must be >= 0")
    return a


try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # the Java bench turns exit code 3 into a message naming the package
    print("pearl_step.py: cannot import torch (%s); install it with: sudo apt-get install -y python3-torch" % e,
          file=sys.stderr)
    sys.exit(3)

# the reference configuration (PearlConfig defaults, obsDim 2, actDim 2)
OBS, ACT, LATENT = 2, 2, 5
CTX_DIM = 2 * OBS + ACT + 1
ENC_HIDDEN, NET_HIDDEN = (200, 200, 200), (300, 300, 300)
BATCH, CONTEXT, META_BATCH = 256, 100, 16
GAMMA, TAU, LR, KL_WEIGHT, REWARD_SCALE = 0.99, 0.005, 3e-4, 0.1, 5.0
TARGET_ENTROPY = -float(ACT)
LOG_STD_MIN, LOG_STD_MAX, SQUASH_EPS, MIN_VARIANCE = -20.0, 2.0, 1e-6, 1e-7
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        nn.init.xavier_uniform_(lin.weight)
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def squashed(out, xi):
    """a = tanh(mu + sigma*xi) and log pi(a), as SquashedGaussian.sample."""
    mean, log_std = out[:, :ACT], out[:, ACT:]
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
    a = torch.tanh(mean + log_std.exp() * xi)
    log_pi = (-0.5 * xi * xi - log_std - HALF_LOG_2PI).sum(1) - torch.log(1.0 - a * a + SQUASH_EPS).sum(1)
    return a, log_pi


class Learner:
    def __init__(self, dtype, device="cpu"):
        self.dtype = dtype
        self.device = device
        self.enc = mlp((CTX_DIM,) + ENC_HIDDEN + (2 * LATENT,)).to(device, dtype)
        self.policy = mlp((OBS + LATENT,) + NET_HIDDEN + (2 * ACT,)).to(device, dtype)
        self.q1 = mlp((OBS + ACT + LATENT,) + NET_HIDDEN + (1,)).to(device, dtype)
        self.q2 = mlp((OBS + ACT + LATENT,) + NET_HIDDEN + (1,)).to(device, dtype)
        self.q1t = mlp((OBS + ACT + LATENT,) + NET_HIDDEN + (1,)).to(device, dtype)
        self.q2t = mlp((OBS + ACT + LATENT,) + NET_HIDDEN + (1,)).to(device, dtype)
        self.q1t.load_state_dict(self.q1.state_dict())
        self.q2t.load_state_dict(self.q2.state_dict())
        for p in list(self.q1t.parameters()) + list(self.q2t.parameters()):
            p.requires_grad_(False)
        self.log_alpha = torch.zeros(1, dtype=dtype, device=device, requires_grad=True)  # fixedAlpha 1.0 -> log alpha 0
        self.enc_p = list(self.enc.parameters())
        self.pol_p = list(self.policy.parameters())
        self.q1_p = list(self.q1.parameters())
        self.q2_p = list(self.q2.parameters())
        self.opts = [torch.optim.Adam(ps, lr=LR) for ps in (self.enc_p, self.pol_p, self.q1_p, self.q2_p,
                                                             [self.log_alpha])]
        self.live = self.enc_p + self.pol_p + self.q1_p + self.q2_p + [self.log_alpha]
        self.backup = None
        self.rejected = 0

    def step(self, tasks, guard=True):
        ctx = torch.cat([t[0] for t in tasks])
        obs = torch.cat([t[1] for t in tasks])
        act = torch.cat([t[2] for t in tasks])
        rew = torch.cat([t[3] for t in tasks])
        nxt = torch.cat([t[4] for t in tasks])
        done = torch.cat([t[5] for t in tasks])
        n_tasks, m = len(tasks), obs.shape[0]
        eps = torch.randn(n_tasks, LATENT, dtype=self.dtype, device=self.device)
        next_noise = torch.randn(m, ACT, dtype=self.dtype, device=self.device)
        noise = torch.randn(m, ACT, dtype=self.dtype, device=self.device)
        alpha = math.exp(self.log_alpha.item())

        # encoder: product of Gaussian factors per task, reparameterised sample, KL to the prior
        out = self.enc(ctx).view(n_tasks, -1, 2 * LATENT)
        mu_n, raw = out[..., :LATENT], out[..., LATENT:]
        prec = 1.0 / F.softplus(raw).clamp(min=MIN_VARIANCE)
        var = 1.0 / prec.sum(1)
        mu = var * (prec * mu_n).sum(1)
        z = mu + var.sqrt() * eps
        kl = 0.5 * (var + mu * mu - 1.0 - var.log()).sum()
        z_rows = z.repeat_interleave(obs.shape[0] // n_tasks, dim=0)
        z_bar = z_rows.detach()

        # critic: constant target from the target critics and a fresh next action
        with torch.no_grad():
            a_next, log_pi_next = squashed(self.policy(torch.cat([nxt, z_bar], 1)), next_noise)
            q_in = torch.cat([nxt, a_next, z_bar], 1)
            soft = torch.min(self.q1t(q_in), self.q2t(q_in)).squeeze(1) - alpha * log_pi_next
            y = REWARD_SCALE * rew + GAMMA * (1.0 - done) * soft
        q_in = torch.cat([obs, act, z_rows], 1)
        critic_loss = ((self.q1(q_in).squeeze(1) - y) ** 2).mean() + ((self.q2(q_in).squeeze(1) - y) ** 2).mean()

        # actor, z constant; the critics are only differentiated for their inputs
        a, log_pi = squashed(self.policy(torch.cat([obs, z_bar], 1)), noise)
        q_in_pi = torch.cat([obs, a, z_bar], 1)
        actor_loss = (alpha * log_pi - torch.min(self.q1(q_in_pi), self.q2(q_in_pi)).squeeze(1)).mean()
        mean_log_pi = log_pi.detach().mean()

        # gradients at the parameters before the step
        g_enc_q = torch.autograd.grad(critic_loss + KL_WEIGHT * kl, self.enc_p + self.q1_p + self.q2_p)
        g_pol = torch.autograd.grad(actor_loss, self.pol_p)
        g_alpha = -(mean_log_pi + TARGET_ENTROPY)
        grads = list(g_enc_q[:len(self.enc_p)]) + list(g_pol) + list(g_enc_q[len(self.enc_p):]) + [g_alpha.view(1)]

        if guard:
            ok = all(math.isfinite(v.item()) for v in (critic_loss, actor_loss, kl, g_alpha))
            ok = ok and all(math.isfinite(g.sum().item()) for g in grads)
            if not ok:
                self.rejected += 1
                return False
            self.save_backup()
        for p, g in zip(self.live, grads):
            p.grad = g
        for opt in self.opts:
            opt.step()
        with torch.no_grad():
            if guard and not all(math.isfinite(p.sum().item()) for p in self.live):
                self.restore_backup()
                self.rejected += 1
                return False
            for target, source in ((self.q1t, self.q1), (self.q2t, self.q2)):
                for tp, sp in zip(target.parameters(), source.parameters()):
                    tp.mul_(1.0 - TAU).add_(sp, alpha=TAU)
        return True

    def save_backup(self):
        with torch.no_grad():
            if self.backup is None:
                self.backup = ([p.detach().clone() for p in self.live], None)
            else:
                for b, p in zip(self.backup[0], self.live):
                    b.copy_(p)
            # Adam states exist after the first update; copy them like PearlLearner's Adam.copyFrom
            states = [{k: (v.clone() if torch.is_tensor(v) else v) for k, v in opt.state[p].items()}
                      for opt in self.opts for p in opt.param_groups[0]["params"]]
            self.backup = (self.backup[0], states)

    def restore_backup(self):
        params, states = self.backup
        for b, p in zip(params, self.live):
            p.copy_(b)
        i = 0
        for opt in self.opts:
            for p in opt.param_groups[0]["params"]:
                opt.state[p] = states[i]
                i += 1


def meta_batch(dtype, gen, device="cpu"):
    """Random tasks like PearlLearnerTest.metaBatch: gaussian context/obs/reward, actions in [-1, 1], 10% done."""
    def g(*shape):
        return torch.randn(*shape, generator=gen, dtype=dtype)
    tasks = []
    for _ in range(META_BATCH):
        act = 2.0 * torch.rand(BATCH, ACT, generator=gen, dtype=dtype) - 1.0
        done = (torch.randint(0, 10, (BATCH,), generator=gen) == 0).to(dtype)
        tasks.append(tuple(t.to(device) for t in (g(CONTEXT, CTX_DIM), g(BATCH, OBS), act, g(BATCH), g(BATCH, OBS),
                                                   done)))
    return tasks


def loaded_blas():
    """Paths of the BLAS/LAPACK libraries mapped into this process (what libblas.so.3 resolved to)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return "unknown"
    hits = sorted(os.path.realpath(p) for p in paths
                  if any(k in os.path.basename(p) for k in ("blas", "lapack", "mkl", "blis")))
    return ", ".join(dict.fromkeys(hits)) or "none found in /proc/self/maps"


def time_steps(learner, tasks, steps, guard):
    """Times `steps` steps: (steps per second over the loop's wall time, per-step ms, process CPU / wall)."""
    ms = []
    c0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(steps):
        s0 = time.perf_counter()
        learner.step(tasks, guard)
        if learner.device != "cpu":
            torch.cuda.synchronize()
        ms.append((time.perf_counter() - s0) * 1e3)
    wall = time.perf_counter() - t0
    return steps / wall, ms, (time.process_time() - c0) / wall


def main(argv):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    if a.device != "cpu" and not torch.cuda.is_available():
        print("pearl_step.py: --device %s asked for, but torch sees no CUDA device" % a.device, file=sys.stderr)
        return 2
    learner = Learner(dtype, a.device)
    tasks = meta_batch(dtype, torch.Generator().manual_seed(a.seed + 1), a.device)
    guard = not a.no_guard
    for _ in range(a.warmup):
        learner.step(tasks, guard)
    info = {
        "dtype": a.dtype,
        "device": a.device if a.device == "cpu" else "%s (%s)" % (a.device, torch.cuda.get_device_name()),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "blas": loaded_blas(),
        "guard": guard,
        "steps": a.steps,
        "warmup": a.warmup,
    }
    if a.serve:
        print(json.dumps(dict(info, ready=True)), flush=True)
        for line in sys.stdin:
            if line.strip() != "run":
                break
            sps, ms, cpu = time_steps(learner, tasks, a.steps, guard)
            print(json.dumps(dict(info, stepsPerSecond=sps, medianStepMs=statistics.median(ms), stepMs=ms,
                                  cpuPerWall=cpu, rejectedSteps=learner.rejected)), flush=True)
        return 0
    reps, all_ms, cpus = [], [], []
    for _ in range(a.repetitions):
        sps, ms, cpu = time_steps(learner, tasks, a.steps, guard)
        reps.append(sps)
        all_ms.extend(ms)
        cpus.append(cpu)
    print(json.dumps(dict(info, stepsPerSecond=statistics.median(reps), medianStepMs=statistics.median(all_ms),
                          perRepetitionStepsPerSecond=reps, perRepetitionCpuPerWall=cpus, repetitions=a.repetitions,
                          rejectedSteps=learner.rejected)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
