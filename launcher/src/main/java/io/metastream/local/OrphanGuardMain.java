package io.metastream.local;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Optional;

/**
 * Entry point of the child JVMs that {@link KafkaBroker} starts: runs another main class and exits
 * the JVM as soon as the parent process is gone.
 *
 * <p>Why: a shutdown hook in the parent stops the broker on a normal exit, but not when the parent is
 * killed with SIGKILL (a surefire fork timeout, {@code kill -9} of the local runner). Without this
 * guard the broker would keep running and holding its ports and data directory. {@link System#exit}
 * runs Kafka's own shutdown hook, so the broker still stops cleanly.
 *
 * <p>Arguments: {@code <parent pid> <main class> [main arguments...]}.
 */
final class OrphanGuardMain {

    private OrphanGuardMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            System.err.println("usage: OrphanGuardMain <parent pid> <main class> [args...]");
            System.exit(2);
        }
        long parentPid = Long.parseLong(args[0]);
        Optional<ProcessHandle> parent = ProcessHandle.of(parentPid);
        if (parent.isEmpty() || !parent.get().isAlive()) {
            System.err.println("parent process " + parentPid + " is already gone; not starting " + args[1]);
            System.exit(3);
        }
        parent.get().onExit().thenRun(() -> {
            System.err.println("parent process " + parentPid + " exited; stopping " + args[1]);
            System.exit(143);
        });
        Method main = Class.forName(args[1]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
