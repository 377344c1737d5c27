// Keeps the actors library non-empty until its first actor lands.
namespace troupe::actors {}
