"""A module a spec test allows: a callable object that is no function."""


class Greeter:
    def __call__(self, name: str) -> str:
        return f"hello {name}"


greet = Greeter()
