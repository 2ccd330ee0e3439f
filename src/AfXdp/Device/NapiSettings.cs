using System.Globalization;
using System.Runtime.ExceptionServices;
using AfXdp.Interop;

namespace AfXdp.Device;

/// <summary>
/// A device's interrupt deferral (the two knobs preferred busy polling is paired with):
/// <see cref="DeferHardIrqs"/> is /sys/class/net/IF/napi_defer_hard_irqs, <see cref="GroFlushTimeout"/>
/// is /sys/class/net/IF/gro_flush_timeout (nanoseconds).
/// </summary>
/// <remarks>
/// <para>
/// When a NAPI poll finds work, the driver normally re-enables the device's interrupt at the end.
/// With napi_defer_hard_irqs = N it keeps the interrupt off for up to N empty polls and instead arms
/// a timer of gro_flush_timeout ns that schedules NAPI again. Preferred busy polling
/// (XskSocket.EnableBusyPoll) lets the application's wakeup syscalls run that NAPI
/// poll; the timer is only the safety net that picks the queue up when the application stops
/// polling for longer than the timeout. Typical values for AF_XDP busy polling: 2 and 200000 (200 µs).
/// Both 0 (the default) means: interrupts on, no deferral.
/// </para>
/// <para>
/// sysfs lists the devices of the network namespace that mounted it, not those of the calling
/// thread's (`ip netns exec` remounts /sys for that reason; a thread moved with setns does not). So
/// <see cref="Read"/> and <see cref="Write"/> run on a short-lived thread of their own, born in the
/// caller's network namespace, that unshares its mount namespace, mounts a private sysfs (mount
/// propagation off, so nothing reaches the host) and ends. That needs CAP_SYS_ADMIN; without it the
/// process's own /sys is used, which is right when the process runs in the namespace it mounted
/// (`ip netns exec`, or a container).
/// </para>
/// </remarks>
public readonly record struct NapiSettings(int DeferHardIrqs, long GroFlushTimeout)
{
    /// <summary>Interrupts on, no deferral: the kernel's defaults.</summary>
    public static NapiSettings Default => new(0, 0);

    /// <summary>Reads the device's settings.</summary>
    public static NapiSettings Read(string interfaceName)
    {
        NetDevice.IndexOf(interfaceName);
        return InPrivateSysfs(interfaceName, directory => new NapiSettings(
            int.Parse(File.ReadAllText(Path.Combine(directory, "napi_defer_hard_irqs")).Trim(), CultureInfo.InvariantCulture),
            long.Parse(File.ReadAllText(Path.Combine(directory, "gro_flush_timeout")).Trim(), CultureInfo.InvariantCulture)));
    }

    /// <summary>Sets the device's settings (CAP_NET_ADMIN); they stay until changed or the device goes.</summary>
    public static void Write(string interfaceName, NapiSettings settings)
    {
        NetDevice.IndexOf(interfaceName);
        if (settings.DeferHardIrqs < 0)
            Throw.OutOfRange(nameof(settings), $"NapiSettings.DeferHardIrqs = {settings.DeferHardIrqs}", "napi_defer_hard_irqs counts polls and cannot be negative.", "use 0 (off) or a small count such as 2.");
        if (settings.GroFlushTimeout < 0)
            Throw.OutOfRange(nameof(settings), $"NapiSettings.GroFlushTimeout = {settings.GroFlushTimeout}", "gro_flush_timeout is in nanoseconds and cannot be negative.", "use 0 (off) or e.g. 200000 (200 µs).");
        InPrivateSysfs(interfaceName, directory =>
        {
            WriteValue(directory, "napi_defer_hard_irqs", settings.DeferHardIrqs.ToString(CultureInfo.InvariantCulture), interfaceName);
            WriteValue(directory, "gro_flush_timeout", settings.GroFlushTimeout.ToString(CultureInfo.InvariantCulture), interfaceName);
            return true;
        });
    }

    static void WriteValue(string directory, string name, string value, string interfaceName)
    {
        try
        {
            File.WriteAllText(Path.Combine(directory, name), value);
        }
        catch (UnauthorizedAccessException)
        {
            throw new AfXdpException($"write {value} to /sys/class/net/{interfaceName}/{name}", Errno.EPERM,
                "changing a device's NAPI settings needs CAP_NET_ADMIN.", "run as root or with CAP_NET_ADMIN.");
        }
    }

    static T InPrivateSysfs<T>(string interfaceName, Func<string, T> body)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                MountPrivateSysfs();
                string directory = $"/sys/class/net/{interfaceName}";
                if (!Directory.Exists(directory))
                    throw new AfXdpException($"open({directory})", Errno.ENOENT,
                        $"this process's /sys does not show {interfaceName}: it belongs to another network namespace, and without CAP_SYS_ADMIN no private sysfs can be mounted.",
                        "run under `ip netns exec NS` (which remounts /sys), or with CAP_SYS_ADMIN.");
                result = body(directory);
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = "afxdp sysfs" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary>On this thread only: a private mount namespace, propagation off, and a sysfs of the thread's network namespace on /sys.</summary>
    static void MountPrivateSysfs()
    {
        if (Sys.Unshare(Sys.CLONE_NEWNS) != 0)
        {
            int errno = Sys.LastErrno;
            if (errno == Errno.EPERM)
                return; // no CAP_SYS_ADMIN: the process's own /sys is all there is
            Throw.Errno("unshare(CLONE_NEWNS)", errno);
        }
        // Slave, so that the sysfs mounted below never propagates back to the host's mount namespace.
        if (Sys.Mount("none", "/", null, Sys.MS_REC | Sys.MS_SLAVE, 0) != 0)
            Throw.Errno("mount(/, MS_REC | MS_SLAVE)", Sys.LastErrno);
        Sys.Umount2("/sys", Sys.MNT_DETACH);
        if (Sys.Mount("sysfs", "/sys", "sysfs", 0, 0) != 0)
            Throw.Errno("mount(sysfs, /sys)", Sys.LastErrno);
    }
}
