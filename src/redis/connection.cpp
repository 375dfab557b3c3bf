#include "redis/connection.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>

namespace jobrouter::redis {

namespace {

struct reply_deleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

// Copies a hiredis reply; an error reply anywhere in it becomes `error_text`.
reply copy_reply(const redisReply* r, std::string& error_text) {
    reply out;
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        out.type = reply::kind::integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = reply::kind::string;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_STATUS:
        out.type = reply::kind::status;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        if (error_text.empty()) error_text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ARRAY:
        out.type = reply::kind::array;
        out.elements.reserve(r->elements);
        for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i], error_text));
        break;
    default:
        break;
    }
    return out;
}

}  // namespace

result<connection> connection::open(const redis_url& url, std::chrono::milliseconds timeout) {
    const std::string where = "redis " + url.display();
    redisContext* ctx = redisConnectWithTimeout(url.host.c_str(), url.port, to_timeval(timeout));
    if (!ctx) return make_error(where, "cannot allocate a connection");
    if (ctx->err) {
        std::string why = ctx->errstr;
        redisFree(ctx);
        return make_error(where, "cannot connect: " + why);
    }
    if (redisSetTimeout(ctx, to_timeval(timeout)) != REDIS_OK) {
        redisFree(ctx);
        return make_error(where, "cannot set the command timeout");
    }
    connection c(url, ctx);
    try {
        if (!url.password.empty()) {
            if (url.user.empty()) c.command({"AUTH", url.password});
            else c.command({"AUTH", url.user, url.password});
        }
        if (url.db != 0) c.command({"SELECT", std::to_string(url.db)});
    } catch (const redis_error& e) {
        return make_error(where, e.what());
    }
    return c;
}

connection::connection(connection&& other) noexcept : url_(std::move(other.url_)), ctx_(std::exchange(other.ctx_, nullptr)) {}

connection& connection::operator=(connection&& other) noexcept {
    if (this != &other) {
        if (ctx_) redisFree(ctx_);
        url_ = std::move(other.url_);
        ctx_ = std::exchange(other.ctx_, nullptr);
    }
    return *this;
}

connection::~connection() {
    if (ctx_) redisFree(ctx_);
}

std::string connection::describe(std::span<const std::string> args) const {
    std::string out = "redis " + url_.display() + ": ";
    if (args.empty()) return out + "(empty command)";
    out += args[0];
    // FCALL and FUNCTION are known by what they call; other arguments may be large or secret.
    if (args.size() > 1 && (args[0] == "FCALL" || args[0] == "FCALL_RO" || args[0] == "FUNCTION")) out += " " + args[1];
    return out;
}

void connection::fail_io(std::span<const std::string> args) {
    std::string why = ctx_->err ? ctx_->errstr : "no reply";
    // After an I/O error hiredis cannot be used again.
    redisFree(ctx_);
    ctx_ = nullptr;
    throw redis_error(describe(args) + ": " + why);
}

void connection::append(std::span<const std::string> args) {
    if (!ctx_) throw redis_error(describe(args) + ": the connection was closed");
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const std::string& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) fail_io(args);
}

reply connection::read_reply(std::span<const std::string> args, std::string& error_text) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw) fail_io(args);
    reply_ptr r(static_cast<redisReply*>(raw));
    return copy_reply(r.get(), error_text);
}

reply connection::command(std::span<const std::string> args) {
    append(args);
    std::string error_text;
    reply out = read_reply(args, error_text);
    if (!error_text.empty()) throw redis_error(describe(args) + ": " + error_text);
    return out;
}

std::vector<reply> connection::pipeline(std::span<const std::vector<std::string>> commands) {
    for (const std::vector<std::string>& args : commands) append(args);
    std::vector<reply> out;
    out.reserve(commands.size());
    std::string first_error;
    for (const std::vector<std::string>& args : commands) {
        std::string error_text;
        out.push_back(read_reply(args, error_text));
        if (!error_text.empty() && first_error.empty()) first_error = describe(args) + ": " + error_text;
    }
    if (!first_error.empty()) throw redis_error(first_error);
    return out;
}

}  // namespace jobrouter::redis
