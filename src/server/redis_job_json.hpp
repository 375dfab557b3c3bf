// redis_job_json: a job hash of the Redis store (job:{id}, as HGETALL returns it) in the JSON
// form the memory store's job_to_json gives, so that both stores answer GET /api/jobs/{id},
// listings and claims alike.
#pragma once

#include "redis/connection.hpp"

#include <boost/json.hpp>

#include <map>
#include <string>

namespace jobrouter {

/// A flat HGETALL reply as field -> value.
std::map<std::string, std::string> hash_fields(const redis::reply& flat);

boost::json::object redis_job_to_json(const std::map<std::string, std::string>& hash);

}  // namespace jobrouter
