// raw_socket: a blocking loopback TCP client for what http_client cannot do on purpose: send
// half a request and stall, idle on a kept-alive connection, hold connections open, and tell
// when the server closed the connection, hang up right after a request. Every wait has a deadline (poll); nothing hangs.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>

namespace test_support {

class raw_socket {
public:
    /// Connects to 127.0.0.1:port; `receive_buffer` > 0 sets SO_RCVBUF first (a slow reader).
    explicit raw_socket(const std::string& port, int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) return;
        if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~raw_socket() { close(); }
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;

    bool connected() const { return connected_; }

    /// False when the server closed or reset the connection.
    bool send(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    struct read_result {
        bool closed = false;  ///< the server closed or reset the connection
        std::string data;     ///< what arrived before that (or before the deadline)
    };
    /// Reads until the server closes the connection, or `timeout` passes.
    read_result read_until_closed(std::chrono::milliseconds timeout) {
        read_result r;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return r;
            pollfd p{fd_, POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) return r;
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                r.closed = true;
                return r;
            }
            r.data.append(buf, static_cast<std::size_t>(n));
        }
    }
    /// Reads until `data` holds `marker`, the connection closes, or `timeout` passes.
    std::string read_until(std::string_view marker, std::chrono::milliseconds timeout) {
        std::string data;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (data.find(marker) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) break;
            data.append(buf, static_cast<std::size_t>(n));
        }
        return data;
    }
    /// True when the server has closed the connection by now (does not wait).
    bool closed_now() {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) return false;
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }

    /// Holds what is sent until shutdown_write() (TCP_CORK): the bytes and the FIN then leave
    /// in one segment, so the server reads the request and the hang-up together.
    void cork() {
        int on = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
    }
    /// Half-closes: the server sees end of stream; replies can still be read.
    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
    bool connected_ = false;
};

}  // namespace test_support
