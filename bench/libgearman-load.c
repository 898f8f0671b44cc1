/*
 * Load on a Gearman job server from libgearman's own clients and workers, the C library that PHP, Perl,
 * Python and gearmand's tools are built on: CLIENTS threads each submit foreground jobs in batches of TASKS
 * (gearman_client_add_task + gearman_client_run_tasks), WORKERS threads run an echo function with
 * gearman_worker_work. After a one-second warm-up it counts completed jobs for SECONDS and reads the server's
 * user and system time (/proc/PID/stat) and its threads' context switches (/proc/PID/task/TID/status) over the
 * same window; -1 stands for a figure that could not be read.
 *
 *   libgearman-load HOST PORT SERVER_PID [SECONDS] [CLIENTS] [TASKS] [WORKERS] [PAYLOAD_BYTES]
 *
 * Prints one JSON line: {"jobs":N,"seconds":S,"jobsPerSecond":R,"serverCpuMicrosecondsPerJob":C,
 * "serverSystemMicrosecondsPerJob":K,"serverContextSwitchesPerJob":W,"errors":E}.
 * Built by bench/server.sh: cc -O2 -o libgearman-load libgearman-load.c -lgearman -lpthread
 */
#include <dirent.h>
#include <libgearman-1.0/gearman.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *function_name = "gearbox-bench-libgearman";
static const char *host;
static in_port_t port;
static size_t payload_size;
static int tasks_per_batch;
/* Clients stop first, then workers, so that no client waits on a job that no worker is left to run. */
static volatile int clients_stopping;
static volatile int workers_stopping;
static uint64_t completed;
static uint64_t errors;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of a process, in clock ticks; -1 when it cannot be read. */
/* The server's user and system time, in clock ticks, from /proc/PID/stat; 0 when it cannot be read. */
static int process_times(long pid, long long *user, long long *system) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *file = fopen(path, "r");
    if (!file) return 0;
    char line[4096];
    size_t length = fread(line, 1, sizeof line - 1, file);
    fclose(file);
    line[length] = 0;
    /* The command name is in parentheses and may hold spaces: fields are counted after the last ')'. */
    char *rest = strrchr(line, ')');
    if (!rest) return 0;
    return sscanf(rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", user, system) == 2;
}

/* Voluntary and involuntary context switches of all the server's threads; -1 when they cannot be read. */
static long long context_switches(long pid) {
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *tasks = opendir(path);
    if (!tasks) return -1;
    long long total = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%ld/task/%.20s/status", pid, entry->d_name);
        FILE *file = fopen(path, "r");
        if (!file) continue; /* a thread that ended since the listing */
        char line[256];
        long long value;
        while (fgets(line, sizeof line, file)) {
            if (sscanf(line, "voluntary_ctxt_switches: %lld", &value) == 1 ||
                sscanf(line, "nonvoluntary_ctxt_switches: %lld", &value) == 1) {
                total += value;
            }
        }
        fclose(file);
    }
    closedir(tasks);
    return total;
}

static void *echo(gearman_job_st *job, void *context, size_t *result_size, gearman_return_t *result) {
    (void)context;
    size_t size = gearman_job_workload_size(job);
    void *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, gearman_job_workload(job), size);
    *result_size = size;
    *result = GEARMAN_SUCCESS;
    return copy;
}

static void *run_worker(void *unused) {
    (void)unused;
    gearman_worker_st *worker = gearman_worker_create(NULL);
    gearman_worker_add_server(worker, host, port);
    /* Wakes gearman_worker_work now and then, so that the thread notices the end of the run. */
    gearman_worker_set_timeout(worker, 200);
    gearman_worker_add_function(worker, function_name, 0, echo, NULL);
    while (!workers_stopping) {
        gearman_return_t result = gearman_worker_work(worker);
        if (result != GEARMAN_SUCCESS && result != GEARMAN_TIMEOUT && result != GEARMAN_IO_WAIT &&
            result != GEARMAN_NO_ACTIVE_FDS) {
            if (__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED) < 3)
                fprintf(stderr, "libgearman-load: worker: %s\n", gearman_strerror(result));
            usleep(10000);
        }
    }
    gearman_worker_free(worker);
    return NULL;
}

static void *run_client(void *unused) {
    (void)unused;
    gearman_client_st *client = gearman_client_create(NULL);
    gearman_client_add_server(client, host, port);
    gearman_client_set_timeout(client, 10000);
    char *payload = malloc(payload_size ? payload_size : 1);
    memset(payload, 'x', payload_size);
    while (!clients_stopping) {
        for (int i = 0; i < tasks_per_batch; i++) {
            gearman_return_t added;
            gearman_client_add_task(client, NULL, NULL, function_name, NULL, payload, payload_size, &added);
            if (added != GEARMAN_SUCCESS) __atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
        }
        gearman_return_t result = gearman_client_run_tasks(client);
        if (result == GEARMAN_SUCCESS) {
            __atomic_fetch_add(&completed, (uint64_t)tasks_per_batch, __ATOMIC_RELAXED);
        } else if (__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED) < 3) {
            fprintf(stderr, "libgearman-load: client: %s\n", gearman_strerror(result));
        }
        gearman_client_task_free_all(client);
    }
    free(payload);
    gearman_client_free(client);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT SERVER_PID [SECONDS] [CLIENTS] [TASKS] [WORKERS] [PAYLOAD_BYTES]\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = (in_port_t)atoi(argv[2]);
    long server_pid = atol(argv[3]);
    double seconds = argc > 4 ? atof(argv[4]) : 4;
    int clients = argc > 5 ? atoi(argv[5]) : 8;
    tasks_per_batch = argc > 6 ? atoi(argv[6]) : 32;
    int workers = argc > 7 ? atoi(argv[7]) : 4;
    payload_size = argc > 8 ? (size_t)atol(argv[8]) : 64;
    if (clients < 1 || clients > 256 || workers < 1 || workers > 256 || tasks_per_batch < 1 ||
        tasks_per_batch > 4096 || seconds <= 0 || payload_size > 64u << 20) {
        fprintf(stderr, "libgearman-load: an argument is out of range\n");
        return 2;
    }

    pthread_t threads[512];
    int started = 0;
    for (int i = 0; i < workers; i++) pthread_create(&threads[started++], NULL, run_worker, NULL);
    usleep(200000);
    for (int i = 0; i < clients; i++) pthread_create(&threads[started++], NULL, run_client, NULL);

    usleep(1000000);
    uint64_t jobs_before = __atomic_load_n(&completed, __ATOMIC_RELAXED);
    long long user_before = 0, system_before = 0, user_after = 0, system_after = 0;
    int times_read = process_times(server_pid, &user_before, &system_before);
    long long switches_before = context_switches(server_pid);
    double start = now_seconds();
    usleep((useconds_t)(seconds * 1e6));
    uint64_t jobs = __atomic_load_n(&completed, __ATOMIC_RELAXED) - jobs_before;
    times_read = times_read && process_times(server_pid, &user_after, &system_after);
    long long switches_after = context_switches(server_pid);
    double elapsed = now_seconds() - start;
    clients_stopping = 1;
    for (int i = workers; i < started; i++) pthread_join(threads[i], NULL);
    workers_stopping = 1;
    for (int i = 0; i < workers; i++) pthread_join(threads[i], NULL);

    double cpu_per_job = -1, system_per_job = -1, switches_per_job = -1;
    if (times_read && jobs > 0) {
        double microseconds_per_tick = 1e6 / (double)sysconf(_SC_CLK_TCK);
        cpu_per_job = (double)(user_after + system_after - user_before - system_before) * microseconds_per_tick / (double)jobs;
        system_per_job = (double)(system_after - system_before) * microseconds_per_tick / (double)jobs;
    }
    if (switches_before >= 0 && switches_after >= switches_before && jobs > 0) {
        switches_per_job = (double)(switches_after - switches_before) / (double)jobs;
    }
    printf("{\"jobs\":%llu,\"seconds\":%.3f,\"jobsPerSecond\":%.1f,\"serverCpuMicrosecondsPerJob\":%.3f,"
           "\"serverSystemMicrosecondsPerJob\":%.3f,\"serverContextSwitchesPerJob\":%.3f,\"errors\":%llu}\n",
           (unsigned long long)jobs, elapsed, (double)jobs / elapsed, cpu_per_job, system_per_job, switches_per_job,
           (unsigned long long)__atomic_load_n(&errors, __ATOMIC_RELAXED));
    return 0;
}
