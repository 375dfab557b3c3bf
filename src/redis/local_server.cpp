#include "redis/local_server.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace jobrouter::redis {

namespace {

// A port the kernel just handed out; redis-server binds it a moment later (start() retries
// when someone else was faster).
int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0) ::close(fd);
    return port;
}

}  // namespace

result<std::unique_ptr<local_server>> local_server::start(local_server_options options) {
    std::unique_ptr<local_server> s(new local_server());
    s->options_ = options;
    char dir_template[] = "/tmp/jobrouter-redis-XXXXXX";
    if (!::mkdtemp(dir_template)) return make_error("redis-server", "cannot create a temporary directory under /tmp");
    s->dir_ = dir_template;
    for (int attempt = 0; attempt < 3; ++attempt)
        if (s->start_on(free_port())) return s;
    return make_error("redis-server", "did not start on a free loopback port within 10 s (is it installed? scripts/common.sh installs it; its log: " +
                                          s->dir_ + "/redis.log)");
}

std::string local_server::url(int db) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

connection local_server::connect(int db) const {
    auto u = parse_redis_url(url(db)).value();
    auto c = connection::open(u, std::chrono::seconds(5));
    if (!c) throw redis_error(c.error().text());
    return std::move(*c);
}

bool local_server::start_on(int port) {
    if (port <= 0) return false;
    const std::string log = dir_ + "/redis.log";
    std::vector<std::string> args{"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", options_.append_only ? "yes" : "no", "--dir", dir_, "--logfile", log,
                                  "--daemonize", "no"};
    if (options_.append_only) {
        args.push_back("--appendfsync");
        args.push_back("always");
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (::posix_spawnp(&pid, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) return false;
    pid_ = pid;
    port_ = port;
    const auto u = parse_redis_url(url()).value();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // it exited: most likely the port was taken
            pid_ = -1;
            return false;
        }
        if (auto c = connection::open(u, std::chrono::milliseconds(500))) {
            try {
                if (c->command({"PING"}).text() == "PONG") return true;
            } catch (const redis_error&) {
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    return false;
}

result<void> local_server::restart() {
    if (pid_ > 0) return make_error("redis-server", "is still running on port " + std::to_string(port_) + "; stop it first");
    // The port was ours a moment ago; a few tries cover a socket still closing.
    for (int attempt = 0; attempt < 3; ++attempt)
        if (start_on(port_)) return {};
    return make_error("redis-server", "did not start again on port " + std::to_string(port_) + " within 10 s (its log: " + dir_ +
                                          "/redis.log)");
}

void local_server::stop(bool hard) {
    if (pid_ <= 0) return;
    ::kill(pid_, hard ? SIGKILL : SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
}

local_server::~local_server() {
    stop();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace jobrouter::redis
