/**
 * End-to-end scenarios with real Linux guests on tidemark disks, booted under
 * {@code qemu-system-x86_64 -accel tcg} (no KVM needed) with Debian's cloud kernel.
 *
 * <p>{@link io.tidemark.it.vm.Guest} builds each guest's initramfs at run time
 * ({@link io.tidemark.it.vm.Initramfs}: busybox-static, the kernel modules resolved through
 * modules.dep by {@link io.tidemark.it.vm.GuestKernel}, host programs such as mke2fs and nbd-client
 * with their shared libraries), and an {@code /init} made of {@code init-common.sh} and the
 * scenario's {@code scenario-*.sh} from the resources. The guest reports {@code TIDEMARK key value}
 * lines on its serial console ({@link io.tidemark.it.vm.GuestRun}) and powers off; each boot has a
 * hard timeout. Consoles and server logs are kept in {@code target/vm-logs/}.
 *
 * <p>Run only these: {@code mvn -pl it-tests -am verify -Dit.test='*VmIT' -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
package io.tidemark.it.vm;
